"""EqlNetwork: the EQL structure as a layer, inside other models, and files saved before it."""

import ast
import pathlib

import keras
import numpy as np
import pytest
import sympy

import deepsymreg as dsr
from deepsymreg.layers import EqlNetwork
from layer_checks import config_round_trip, save_and_load

PACKAGE = pathlib.Path(dsr.__file__).parent
LEGACY = pathlib.Path(__file__).parents[1] / "fixtures" / "legacy"


def _imports(path):
    """The deepsymreg modules that the module at ``path`` imports."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("deepsymreg"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("deepsymreg"))
    return found


def test_no_layer_module_imports_models():
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(m for m in _imports(path) if m.startswith("deepsymreg.models"))
        for path in (PACKAGE / "layers").glob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_network_matches_numpy_and_reads_as_its_equation():
    net = EqlNetwork(n_outputs=1, depth=1, primitives=["identity", "square"], seed=3)
    x = np.random.default_rng(0).uniform(-1, 1, (16, 2)).astype("float32")
    out = keras.ops.convert_to_numpy(net(x))
    w1 = net.hidden[0].linear.effective_kernel.numpy()
    w2 = net.output_layer.linear.effective_kernel.numpy()
    g = x @ w1
    np.testing.assert_allclose(out, np.concatenate([g[:, :1], g[:, 1:] ** 2], 1) @ w2, rtol=1e-5)
    expr = net.to_sympy(["a", "b"], threshold=0.0)
    f = sympy.lambdify(sympy.symbols("a b"), expr)
    np.testing.assert_allclose(f(x[:, 0], x[:, 1]), out[:, 0], rtol=1e-4, atol=1e-5)


def test_network_config_and_keras_file_inside_a_functional_model(tmp_path):
    net = EqlNetwork(n_outputs=2, depth=2, regularizer="l0", seed=1)
    inputs = keras.Input((3,))
    model = keras.Model(inputs, net(inputs))
    config_round_trip(net)
    x = np.random.default_rng(1).normal(size=(5, 3)).astype("float32")
    loaded = save_and_load(model, x, tmp_path)
    assert isinstance(loaded.layers[1], EqlNetwork)


def test_eql_model_holds_a_network_and_matches_it():
    model = dsr.EQL(n_outputs=1, depth=2, trials=3, seed=0)
    x = np.zeros((4, 2), "float32")
    model(x)
    assert isinstance(model.network, EqlNetwork)
    assert model.trials == 3 and model.hidden is model.network.hidden
    twin = EqlNetwork(n_outputs=1, depth=2, trials=3, seed=0)
    twin(x)
    for a, b in zip(model.network.weights, twin.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_penalty_is_the_sum_over_linear_maps():
    net = EqlNetwork(n_outputs=1, depth=2, reg_lambda=0.1, seed=0)
    x = np.random.default_rng(2).normal(size=(4, 2)).astype("float32")
    net(x)
    expected = sum(float(layer.linear.penalty()) for layer in net.eql_layers)
    np.testing.assert_allclose(float(net.penalty()), expected, rtol=1e-6)
    np.testing.assert_allclose(float(sum(net.losses)), expected, rtol=1e-6)
    net.defer_penalty = True
    net(x)
    assert not net.losses


def test_linear_options_reach_the_kind():
    net = EqlNetwork(depth=1, regularizer="l0", linear_options={"drop_rate": 0.2})
    assert all(layer.linear.drop_rate == 0.2 for layer in net.hidden)
    assert type(net.output_layer.linear).__name__ == "MaskedDense"  # plain_output
    with pytest.raises(ValueError, match="linear_options.*share_gate"):
        EqlNetwork(depth=1, linear_options={"share_gate": True})


def test_eql_rejects_shared_gates_across_restarts():
    # Gates are shared along parameter steps only, which an EQL network has none of.
    with pytest.raises(ValueError, match="share_gates.*trials never share"):
        dsr.EQL(regularizer="l0", trials=2, linear_options={"share_gates": True})


def test_eql_file_saved_before_the_network_split_loads_and_predicts_the_same():
    model = keras.models.load_model(LEGACY / "eql_l0_trials2_v0_1.keras")
    data = np.load(LEGACY / "eql_l0_trials2_v0_1.npz")
    # The same numbers up to float32 rounding (TensorFlow versions may order sums differently).
    np.testing.assert_allclose(model.predict(data["x"], verbose=0), data["y"], rtol=1e-5, atol=1e-6)


def test_dynamics_file_saved_before_the_split_says_how_to_resave():
    with pytest.raises(ValueError, match="from_config.*set_weights"):
        keras.models.load_model(LEGACY / "dynamics_v0_1.keras")

