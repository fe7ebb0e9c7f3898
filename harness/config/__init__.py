"""The run config: its dataclasses, `-o` overrides and the up-front checks of every value."""
