"""TRPO: conjugate gradient, the Fisher-vector product and the KL-guarded line search."""

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.utils import parameters_to_vector

from baselines import trpo
from harness.api.algorithm import LossSettings
from harness.api.batch import Batch
from harness.rl.natural_gradient import flat_parameters


def test_conjugate_gradient_solves_a_known_spd_system():
    a = torch.tensor([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]], dtype=torch.float64)
    b = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    solution = trpo.conjugate_gradient(lambda v: a @ v, b.clone(), iters=10)
    torch.testing.assert_close(solution.x, torch.linalg.solve(a, b), atol=1e-9, rtol=0)
    assert solution.residual_norm < 1e-6


@pytest.mark.parametrize("iters", [1, 2, 3, 5])
def test_conjugate_gradient_reports_x_a_x_and_b_x_after_any_number_of_iterations(iters):
    """TRPO scales its step with xᵀAx and reports bᵀx (b is used up); both before convergence."""
    torch.manual_seed(0)
    m = torch.randn(8, 8, dtype=torch.float64)
    a = m @ m.T + 0.1 * torch.eye(8, dtype=torch.float64)
    b = torch.randn(8, dtype=torch.float64)
    used = b.clone()
    solution = trpo.conjugate_gradient(lambda v: a @ v, used, iters=iters)
    x = solution.x
    assert (b - a @ x).norm() > 1e-6  # not converged: the identity is not the solved system's
    torch.testing.assert_close(solution.curvature, (x @ a @ x).item(), rtol=1e-10, atol=0)
    torch.testing.assert_close(solution.b_dot_x, (b @ x).item(), rtol=1e-10, atol=0)
    torch.testing.assert_close(solution.residual_norm, (b - a @ x).norm().item(), rtol=1e-8, atol=0)
    torch.testing.assert_close(used, b - a @ x)  # b was used up as the residual


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_flat_parameters_shares_one_vector_inside_and_restores_own_storage_after():
    import torch.autograd.forward_ad as fwAD

    from harness.rl.natural_gradient import split_like

    torch.manual_seed(0)
    params = list(torch.nn.Linear(3, 4).parameters())
    before = [p.detach().clone() for p in params]
    tangent = torch.randn(sum(p.numel() for p in params))
    views = split_like(tangent, params)
    with fwAD.dual_level():  # why: outside, forward-mode AD copies a view tangent
        dual = fwAD.make_dual(params[0].detach(), views[0])
        assert fwAD.unpack_dual(dual).tangent.data_ptr() != views[0].data_ptr()
    with flat_parameters(params) as flat:
        assert torch.equal(flat, torch.cat([p.reshape(-1) for p in before]))
        offset = 0
        for p in params:
            assert p.data_ptr() == flat[offset:].data_ptr()
            offset += p.numel()
        with fwAD.dual_level():  # inside, each tangent is used as it is
            for p, view in zip(params, views, strict=True):
                dual = fwAD.make_dual(p.detach(), view)
                assert fwAD.unpack_dual(dual).tangent.data_ptr() == view.data_ptr()
    for p, old in zip(params, before, strict=True):
        assert torch.equal(p, old) and p.untyped_storage().nbytes() == p.numel() * p.element_size()


def tiny_lm_batch(model) -> Batch:
    """Two prompts × two completions of three tokens for a model with a small vocabulary."""
    torch.manual_seed(0)
    vocab = model.config.vocab_size
    completions = torch.randint(3, vocab, (4, 3))
    return Batch(
        prompt_ids=torch.randint(3, vocab, (2, 4)), prompt_mask=torch.ones(2, 4, dtype=torch.long),
        completion_ids=completions, completion_mask=torch.tensor([[1.0, 1, 1], [1, 1, 0]] * 2),
        old_logprobs=torch.zeros(4, 3), ref_logprobs=torch.zeros(4, 3), returns=torch.zeros(4),
        advantages=torch.tensor([1.0, -1.0, 0.5, -0.5]),
    )  # fmt: skip


SETTINGS = LossSettings(temperature=1.0, micro_batch_prompts=1)


def small_llama():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=7, hidden_size=4, intermediate_size=6, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=16,
    )  # fmt: skip
    return LlamaForCausalLM(config).double()


def test_fisher_vector_product_equals_explicit_hessian_vector_product():
    model = small_llama()
    batch = tiny_lm_batch(model)
    params = [p for p in model.parameters()]
    theta = parameters_to_vector(params).detach()
    with torch.no_grad():
        old = [trpo.log_softmax(model, mb, 1.0)[0].double() for mb in batch.micro_batches(1)]

    def mean_kl(vector: torch.Tensor) -> torch.Tensor:
        named = {}
        offset = 0
        for name, p in model.named_parameters():
            named[name] = vector[offset : offset + p.numel()].view_as(p)
            offset += p.numel()
        total, count = 0.0, 0.0
        for micro, old_logp in zip(batch.micro_batches(1), old, strict=True):
            logits = torch.func.functional_call(
                model, named, (), {"input_ids": torch.cat([micro.prompt_ids.repeat_interleave(2, 0),
                                   micro.completion_ids], 1)},
            ).logits[:, 3:-1]  # fmt: skip
            kl, tokens = trpo.mean_kl(
                old_logp, torch.log_softmax(logits, -1), micro.completion_mask
            )
            total, count = total + kl, count + tokens
        return total / count

    torch.manual_seed(1)
    v = torch.randn_like(theta)
    with sdpa_kernel(SDPBackend.MATH):  # the fused kernels have no double backward
        hessian = torch.autograd.functional.hessian(mean_kl, theta)
    product = trpo.fisher_product(model, params, batch, damping=0.0, settings=SETTINGS)
    torch.testing.assert_close(product(v), hessian @ v, atol=1e-6, rtol=0)
    damped = trpo.fisher_product(model, params, batch, damping=0.1, settings=SETTINGS)
    torch.testing.assert_close(damped(v), hessian @ v + 0.1 * v, atol=1e-6, rtol=0)
    with flat_parameters(params):  # the same product to the bit, its tangents not copied
        flat = trpo.fisher_product(model, params, batch, damping=0.1, settings=SETTINGS)
        assert torch.equal(flat(v), damped(v))


def test_line_search_never_accepts_kl_above_the_bound():
    config = trpo.Config(max_kl=0.01, backtrack_steps=10, backtrack_ratio=0.5)
    theta, step = torch.zeros(2), torch.tensor([1.0, 0.0])
    # The surrogate improves with any positive step; KL = s² exceeds δ until s ≤ 0.1.
    seen = []

    def evaluate(candidate: torch.Tensor) -> tuple[float, float]:
        s = candidate[0].item()
        seen.append(s)
        return s, s * s

    search = trpo.line_search(evaluate, theta, step, 0.0, config)
    assert search.theta is not None and search.kl <= 0.01
    assert search.trials == 5 and abs(search.theta[0].item() - 0.0625) < 1e-9  # 1/2⁴ ≤ 0.1
    assert all(s * s > 0.01 for s in seen[:-1])


def test_line_search_rejects_when_no_step_is_safe_or_improving():
    config = trpo.Config(max_kl=0.01, backtrack_steps=4)
    theta, step = torch.zeros(1), torch.ones(1)
    too_far = trpo.line_search(lambda c: (1.0, 1.0), theta, step, 0.0, config)
    worse = trpo.line_search(lambda c: (-1.0, 0.0), theta, step, 0.0, config)
    for search in (too_far, worse):
        assert search.theta is None and search.trials == 4 and search.kl == 0.0


def double_backward_product(model, params, batch, settings):
    """The reference: v ↦ ∇²_θ mean KL(π_old‖π_θ) v by double back-propagation (the product
    TRPO used before the Gauss–Newton form)."""
    total, count = 0.0, 0.0
    for micro in batch.micro_batches(settings.micro_batch_prompts):
        with sdpa_kernel(SDPBackend.MATH):  # the fused kernels have no double backward
            logp, _ = trpo.log_softmax(model, micro, settings.temperature)
        kl, tokens = trpo.mean_kl(logp.detach(), logp, micro.completion_mask)
        total, count = total + kl, count + tokens
    grads = torch.autograd.grad(total / count, params, create_graph=True, materialize_grads=True)
    flat = parameters_to_vector(grads)
    return lambda v: parameters_to_vector(torch.autograd.grad(flat @ v, params, retain_graph=True))


def rollout_batch(rollout) -> Batch:
    """A rollout's tokens as a Batch; its scores zero (what these products never read)."""
    rows, tokens = rollout.completion_ids.shape
    return Batch(
        prompt_ids=rollout.prompt_ids, prompt_mask=rollout.prompt_mask,
        completion_ids=rollout.completion_ids, completion_mask=rollout.completion_mask,
        old_logprobs=torch.zeros(rows, tokens), ref_logprobs=torch.zeros(rows, tokens),
        returns=torch.zeros(rows), advantages=torch.zeros(rows),
    )  # fmt: skip


def test_gauss_newton_product_equals_the_double_backward_product_on_the_tiny_policy(
    tiny_policy, summarization_task
):
    import copy

    from harness.loop.rollout import sample_rollout
    from harness.rl.value import policy_parameters

    torch.manual_seed(2)
    rollout = sample_rollout(tiny_policy, summarization_task.examples("train")[:3], 2, 6, 0.7, 256)
    model = copy.deepcopy(tiny_policy.model).double()
    batch = rollout_batch(rollout)
    settings = LossSettings(temperature=0.7, micro_batch_prompts=2)
    params = policy_parameters(model)
    reference = double_backward_product(model, params, batch, settings)
    product = trpo.fisher_product(model, params, batch, damping=0.0, settings=settings)
    for seed in (1, 2):
        torch.manual_seed(seed)
        v = torch.randn(sum(p.numel() for p in params), dtype=torch.float64)
        expected = reference(v)
        assert expected.abs().max() > 1e-3
        # Llama's RMSNorm computes in float32 even in a float64 model, and forward- and
        # reverse-mode AD round differently there: agreement to 1e-5 relative, not 1e-12. The
        # exact 1e-6 float64 check against the explicit Hessian is the small_llama test above.
        torch.testing.assert_close(product(v), expected, atol=1e-6, rtol=1e-5)


def test_gradients_go_into_the_buffer_exactly_as_autograd_grad_gives_them():
    """accumulate_into adds in place what autograd.grad + a flat copy added (to the last bit),
    a tied weight's two contributions included, and leaves no .grad behind."""
    from harness.rl.natural_gradient import accumulate_into

    torch.manual_seed(0)
    embed, mix = torch.nn.Embedding(11, 5), torch.nn.Linear(5, 5)
    params = [embed.weight, *mix.parameters()]
    ids = torch.randint(0, 11, (3, 4))
    logits = mix(embed(ids)) @ embed.weight.T  # the embedding twice, like a tied LM head
    weights = [torch.randn_like(logits) for _ in range(2)]
    expected = torch.zeros(sum(p.numel() for p in params))
    for w in weights:
        expected += parameters_to_vector(torch.autograd.grad(logits, params, w, retain_graph=True))
    total = torch.zeros_like(expected)
    for w in weights:
        accumulate_into(total, logits, w, params)
    assert torch.equal(total, expected)
    assert all(p.grad is None for p in params)
    with pytest.raises(RuntimeError):  # a wrong shape: backward fails half-way
        accumulate_into(total, logits, weights[0][:1], params)
    assert all(p.grad is None for p in params)


def test_kept_log_softmax_restores_pi_old_to_the_bit_after_theta_moves(
    tiny_policy, summarization_task
):
    """The line search's π_old: kept as hidden states, restored with θ_old's head weights."""
    import copy

    from baselines.kept_log_softmax import keep_log_softmax
    from harness.loop.rollout import sample_rollout
    from harness.rl.natural_gradient import module_weights
    from harness.rl.value import policy_parameters

    torch.manual_seed(3)
    rollout = sample_rollout(tiny_policy, summarization_task.examples("train")[:2], 2, 5, 0.7, 256)
    model = copy.deepcopy(tiny_policy.model)
    batch = rollout_batch(rollout)
    params = policy_parameters(model)
    with torch.no_grad():
        logp, hidden = trpo.log_softmax(model, batch, 0.7, with_hidden=True)
    kept = keep_log_softmax(model, logp, hidden, 0.7)
    vocab, width = logp.shape[-1], hidden.shape[-1]
    assert kept.first.shape == (4, 1, vocab) and kept.hidden.shape == (4, 4, width)
    # hidden states that do not give these logits (a head that scales or caps them): kept whole
    whole = keep_log_softmax(model, logp, hidden * 1.5, 0.7)
    assert whole.hidden is None and torch.equal(whole.restore(model, {}), logp)
    theta_old = parameters_to_vector(params).detach().clone()
    with torch.no_grad():  # θ moves, the head with it
        for p in params:
            p.add_(torch.randn_like(p))
    head = model.get_output_embeddings()
    assert not torch.equal(kept.restore(model, dict(head.named_parameters())), logp)
    assert torch.equal(kept.restore(model, module_weights(head, params, theta_old)), logp)
