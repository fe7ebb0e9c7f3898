"""The rl-lm-bench engine: CLI, configs, registries, policies, rollouts, metrics, run dirs."""
