"""examples/springs.py: its quick path end to end on tiny data, and the maths around it.

The tiny run (4 t steps x 16 pairs, 20 steps, 2 restarts) only checks the report: JSON
keys, finite values, shapes, figure. The other tests can fail on the maths: the linear
latent fit and its substitution, the training-region filter, the k(t) read-out, and the
independence of the restarts held in one graph. Measured runs are in docs/pde.md.
"""

import json
import math

import numpy as np
import pytest
import sympy
from tests.scripts import load_script


@pytest.fixture(scope="module")
def springs():
    return load_script("examples/springs.py")


def test_tiny_quick_run_reports_everything(springs, tmp_path, capsys):
    out, fig = tmp_path / "r.json", tmp_path / "f.png"
    code = springs.main(["--target", "force", "--quick", "--n-t", "4", "--n-per-t", "16",
                         "--steps", "20", "--trials", "2", "--json", str(out),
                         "--figure", str(fig)])
    printed = capsys.readouterr().out
    assert code == 0
    result = json.loads(out.read_text())
    assert {"latent_correlation", "equations", "extrapolation_mse", "wall_seconds",
            "settings"} <= set(result)
    assert 0.0 <= result["latent_correlation"] <= 1.0
    assert set(result["extrapolation_mse"]) == {"eql", "relu"}
    assert all(math.isfinite(v) and v >= 0 for v in result["extrapolation_mse"].values())
    assert math.isfinite(result["wall_seconds"]) and result["wall_seconds"] > 0
    # The paper's t values at the nearest of 4 grid steps over [-3, 3] (two share one).
    assert list(result["equations"]) == ["-3", "-1", "1"]
    for eq in result["equations"].values():
        assert set(eq) == {"latents", "psi"}
        free = {str(s) for s in sympy.sympify(eq["psi"]).free_symbols}
        assert free <= {"psi1", "psi2"}
    assert result["method"] == "stacked" and result["settings"]["n_t"] == 4
    assert len(result["k_curve"]["learned"]) == len(result["k_curve"]["true"]) == 4
    assert len(result["trial_held_out_mse"]["eql"]) == 2
    assert "3.82psi1 - 3.82psi2" in printed  # the paper's Table IV row at t = -2.619
    assert fig.stat().st_size > 10_000


def test_latent_fit_recovers_an_affine_map_and_rewrites_the_law(springs):
    rng = np.random.default_rng(0)
    psi1, psi2 = rng.uniform(-3, 3, (2, 500))
    # z1 = 2 psi1 - 1 and z2 = -0.5 psi2 + 0.25 (the second latent flipped in sign).
    fits = springs.fit_latents(2 * psi1 - 1, -0.5 * psi2 + 0.25, psi1, psi2)
    assert fits["z1"]["slope"] == pytest.approx(0.5) and fits["z1"]["intercept"] == pytest.approx(0.5)
    assert fits["z2"]["slope"] == pytest.approx(-2.0) and fits["z2"]["intercept"] == pytest.approx(0.5)
    assert fits["z1"]["r"] == pytest.approx(1.0) and fits["z2"]["r"] == pytest.approx(-1.0)
    p1, p2 = sympy.symbols("psi1 psi2")
    # F = -3 (psi2 - psi1) written in these latents: psi1 = (z1 + 1)/2, psi2 = 0.5 - 2 z2.
    force = springs.in_positions("-3*(0.5 - 2*z2) + 3*(z1 + 1)/2", fits)
    diff = sympy.Poly(sympy.expand(force - (3 * p1 - 3 * p2)), p1, p2)
    assert all(abs(float(c)) < 1e-9 for c in diff.coeffs())
    energy = springs.in_positions("((0.5 - 2*z2) - (z1 + 1)/2)**2", fits)
    diff = sympy.Poly(sympy.expand(energy - (p2 - p1) ** 2), p1, p2)
    assert all(abs(float(c)) < 1e-9 for c in diff.coeffs())
    assert springs.relative_error(springs.true_law("force", 1.0), "force", 1.0) == 0.0
    assert springs.relative_error(-2 * (p2 - p1), "force", 1.0) == pytest.approx(0.0, abs=1e-12)
    assert springs.relative_error(-2 * (p2 - p1), "force", -1.0) == pytest.approx(1 / 3)


def test_learned_k_reads_the_spring_constant(springs):
    t = np.array([-2.0, 0.5, 3.0])
    for target in ("force", "energy"):
        def law(tv, psi):
            gap = psi[:, 1] - psi[:, 0]
            k = (5 - tv) / 2
            return (-k * gap if target == "force" else k / 2 * gap**2) + 0.3
        np.testing.assert_allclose(springs.learned_k(law, target, t), (5 - t) / 2, rtol=1e-9)


def test_training_rows_stay_in_the_training_region(springs):
    from deepsymreg.data.springs import spring_images

    data = spring_images(n_t=3, n_per_t=20, region="train", seed=1)
    inputs = springs.layout(data)
    assert inputs.shape == (3, 20, 129)
    np.testing.assert_array_equal(inputs[..., -1], np.broadcast_to(data.t[:, None], (3, 20)))
    fit, held = springs.split_rows(3, 20, 0.2, seed=0)
    assert fit.shape == (3, 16) and held.shape == (3, 4)
    for j in range(3):
        assert sorted([*fit[j], *held[j]]) == list(range(20))
    gap = springs.rows(data.psi2 - data.psi1, fit)
    assert np.all(np.abs(gap) <= 4.0)
    far = spring_images(n_t=3, n_per_t=20, region="extrapolation", seed=2)
    assert np.all(np.abs(far.psi2 - far.psi1) > 4.0)
    with pytest.raises(ValueError, match="n_per_t"):
        springs.split_rows(3, 1, 0.2)


def test_restarts_in_one_graph_do_not_share_gradients(springs):
    import tensorflow as tf
    from deepsymreg.data.springs import spring_images

    data = spring_images(n_t=4, n_per_t=8, region="train", seed=0)
    x = springs.layout(data)
    for head in ("eql", "relu"):
        model = springs.SpringModel(head=head, method="stacked", t_steps=4, trials=2, seed=3)
        with tf.GradientTape() as tape:
            out = model(x, training=True)
            loss = tf.reduce_sum(out[0] ** 2)  # restart 0 only
        grads = tape.gradient(loss, model.trainable_variables)
        touched = [v.path for v, g in zip(model.trainable_variables, grads)
                   if g is not None and v.shape[0] == 2 and np.any(np.asarray(g)[1] != 0)]
        assert touched == [], head
        assert any(g is not None and np.any(np.asarray(g)[0] != 0)
                   for v, g in zip(model.trainable_variables, grads) if "encoder" in v.path)


def test_rejects_bad_arguments(springs):
    with pytest.raises(SystemExit):
        springs.main(["--target", "momentum"])
    with pytest.raises(SystemExit):
        springs.main(["--target", "force", "--trials", "0"])
    with pytest.raises(ValueError, match="size"):
        springs.run("force", quick=True, size={"n_pixels": 32})
