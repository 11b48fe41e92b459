"""Primitives: one SymPy definition, consistent TensorFlow / NumPy / SymPy views."""

import keras
import numpy as np
import pytest
import sympy
import tensorflow as tf

from deepsymreg import EqlLayer, primitives
from layer_checks import config_round_trip

#: Read at import, before any test registers (and unregisters) its own primitives.
BUILTIN_PRIMITIVES = primitives.registered_names()


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


#: The paper's definitions, written out by hand (Kim et al. 2020, appendix A).
EXPECTED = {
    "constant": lambda: 1.0,
    "identity": lambda g: g,
    "square": lambda g: g**2,
    "cube": lambda g: g**3,
    "sin": np.sin,
    "cos": np.cos,
    "sin2pi": lambda g: np.sin(2 * np.pi * g),
    "exp": np.exp,
    "expm1_e": lambda g: (np.exp(g) - 1) / np.e,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "sigmoid20": lambda g: _sigmoid(20 * g),
    "product": lambda a, b: a * b,
    "product10": lambda a, b: 10 * a * b,
    # The Gumbel-max EQL's functions (Chen 2021; bounds of the authors' code).
    "add": lambda a, b: a + b,
    "pow4": lambda g: g**4,
    "pow5": lambda g: g**5,
    "pow6": lambda g: g**6,
    "div": lambda a, b: np.clip(a / b, -100.0, 100.0),
    "sqrt_abs": lambda g: np.sqrt(np.abs(g)),
    "exp_clip": lambda g: np.minimum(np.exp(g), 1e10),
}


def _random_args(primitive, rng, n=64):
    return [rng.uniform(-2.0, 2.0, n) for _ in range(primitive.arity)]


def _sympy_values(primitive, args):
    """Evaluate the SymPy expression point by point with subs/evalf (no lambdify)."""
    expr = primitives.elementary(primitive.sympy(*primitive.symbols))
    n = len(args[0]) if args else 1
    return np.array(
        [float(expr.subs({s: a[i] for s, a in zip(primitive.symbols, args)}).evalf())
         for i in range(n)]
    )


def test_builtin_set_is_the_documented_one():
    assert set(BUILTIN_PRIMITIVES) == set(EXPECTED)


@pytest.mark.parametrize("name", BUILTIN_PRIMITIVES)
def test_numpy_view_matches_paper_definition(name, rng):
    primitive = primitives.get(name)
    args = _random_args(primitive, rng)
    np.testing.assert_allclose(primitive.numpy(*args), EXPECTED[name](*args),
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", BUILTIN_PRIMITIVES)
def test_tensorflow_view_matches_numpy(name, rng):
    primitive = primitives.get(name)
    args = _random_args(primitive, rng)
    got = primitive.tensorflow(*[tf.constant(a, tf.float64) for a in args])
    np.testing.assert_allclose(np.asarray(got), primitive.numpy(*args), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", BUILTIN_PRIMITIVES)
def test_sympy_view_matches_numpy(name, rng):
    primitive = primitives.get(name)
    args = _random_args(primitive, rng, n=12)
    expected = primitive.numpy(*args) if args else primitive.numpy()
    np.testing.assert_allclose(
        _sympy_values(primitive, args), np.broadcast_to(expected, (len(args[0]) if args else 1,)),
        rtol=1e-10, atol=1e-12,
    )


@pytest.fixture(scope="module")
def xla_gradients():
    """d f / d g_j of every built-in primitive at moderate g, computed under XLA."""
    g = tf.constant(np.linspace(-3.0, 3.0, 25), tf.float32)  # includes g = 0 exactly
    h = tf.constant(np.linspace(2.0, -2.5, 25), tf.float32)
    unary_or_binary = [n for n in BUILTIN_PRIMITIVES if primitives.get(n).arity > 0]

    @tf.function(jit_compile=True)
    def grads(g, h):
        out = {}
        for name in unary_or_binary:
            primitive = primitives.get(name)
            args = [g, h][: primitive.arity]
            with tf.GradientTape() as tape:
                tape.watch(args)
                y = tf.reduce_sum(primitive.tensorflow(*args))
            out[name] = tape.gradient(y, args)
        return out

    return g.numpy(), h.numpy(), {k: [t.numpy() for t in v] for k, v in grads(g, h).items()}


@pytest.mark.parametrize(
    "name", [n for n in BUILTIN_PRIMITIVES if primitives.get(n).arity > 0]
)
def test_xla_gradient_is_finite_and_equals_sympy_derivative(name, xla_gradients):
    g, h, grads = xla_gradients
    primitive = primitives.get(name)
    expr = primitives.elementary(primitive.expression)
    values = [g, h][: primitive.arity]
    for symbol, got in zip(primitive.symbols, grads[name]):
        assert np.all(np.isfinite(got))
        derivative = sympy.lambdify(primitive.symbols, sympy.diff(expr, symbol), "numpy")
        with np.errstate(all="ignore"):
            expected = np.broadcast_to(derivative(*[v.astype(float) for v in values]), g.shape)
        # Where the maths has no derivative (sqrt|g| at 0), the guarded op stays finite.
        defined = np.isfinite(expected)
        np.testing.assert_allclose(got[defined], expected[defined], rtol=2e-5, atol=2e-5)


def test_constant_takes_no_argument():
    constant = primitives.get("constant")
    assert constant.arity == 0
    assert constant.numpy() == 1.0
    with pytest.raises(ValueError, match="takes 0 argument"):
        constant.numpy(1.0)


def test_binary_primitive_rejects_one_argument():
    with pytest.raises(ValueError, match="'product' takes 2 argument"):
        primitives.get("product").tensorflow(tf.ones(3))


def test_paper_default_layer_sizes():
    # [1 (x2), g (x4), g^2 (x4), sin(2 pi g) (x2), e^g (x2), sigmoid(20 g) (x2), g1*g2 (x2)]
    groups = primitives.group(primitives.DEFAULT)
    assert sum(c for _, c in groups) == 18  # outputs
    assert sum(p.arity * c for p, c in groups) == 18  # constants consume no pre-activation
    assert [p.name for p, _ in groups] == [
        "constant", "identity", "square", "sin2pi", "exp", "sigmoid20", "product"
    ]


def test_group_keeps_first_appearance_order_and_counts():
    groups = primitives.group(["square", "identity", "square", "product", "identity"])
    assert [(p.name, c) for p, c in groups] == [("square", 2), ("identity", 2), ("product", 1)]


@pytest.mark.parametrize("axis", [-1, 0])
def test_apply_groups_reads_the_grouped_layout_and_its_gradient(axis, rng):
    # Layout: square x2 | product x1 (a, then b) | constant | identity x1 | one unused
    # trailing pre-activation, along the last axis of a (3, 6) tensor or the first of
    # a (6, 3) one.
    groups = primitives.group(["square", "product", "square", "constant", "identity"])
    g = rng.normal(size=(3, 6)).astype("float32")
    values = tf.constant(g if axis == -1 else g.T)
    with tf.GradientTape() as tape:
        tape.watch(values)
        outputs = primitives.apply_groups(groups, values, axis=axis)
        total = tf.reduce_sum(tf.concat(outputs, axis=axis))
    grad = tape.gradient(total, values).numpy()
    grad = grad if axis == -1 else grad.T
    out = [o.numpy() if axis == -1 else o.numpy().T for o in outputs]
    np.testing.assert_allclose(out[0], g[:, 0:2] ** 2, rtol=1e-6)
    np.testing.assert_allclose(out[1][:, 0], g[:, 2] * g[:, 3], rtol=1e-6)
    np.testing.assert_allclose(out[2], np.ones((3, 1)))
    np.testing.assert_allclose(out[3][:, 0], g[:, 4], rtol=1e-6)
    expected = np.stack([2 * g[:, 0], 2 * g[:, 1], g[:, 3], g[:, 2], np.ones(3), np.zeros(3)], 1)
    np.testing.assert_allclose(grad, expected, rtol=1e-6)


@pytest.mark.parametrize("bad", [[], "identity", None, ("identity", "nope")])
def test_group_rejects_bad_lists(bad):
    with pytest.raises(ValueError, match="primitive"):
        primitives.group(bad)


def test_get_unknown_name_lists_registered_ones():
    with pytest.raises(ValueError, match="Unknown primitive 'nope'.*identity"):
        primitives.get("nope")


def test_get_returns_a_primitive_unchanged():
    primitive = primitives.get("exp")
    assert primitives.get(primitive) is primitive


def test_evaluate_rejects_unknown_backend():
    with pytest.raises(ValueError, match="`backend`.*'jax'"):
        primitives.evaluate(sympy.Symbol("g"), {}, backend="jax")


# -- custom primitives ----------------------------------------------------------------


CUSTOM = {
    "cubic_plus": (lambda g: g**3 - g / 2, lambda g: g**3 - g / 2),
    "damped": (lambda a, b: a * sympy.exp(-(b**2)), lambda a, b: a * np.exp(-(b**2))),
    "hypot1": (lambda g: sympy.sqrt(1 + g**2), lambda g: np.sqrt(1 + g**2)),
    "reciprocal_shift": (lambda g: 1 / (3 + g), lambda g: 1 / (3 + g)),
    "exp2": (lambda g: 2**g, lambda g: 2.0**g),
}


@pytest.mark.parametrize("name", sorted(CUSTOM))
def test_custom_primitive_views_agree(name, clean_registry, rng):
    definition, by_hand = CUSTOM[name]
    primitive = primitives.register_primitive(name, definition)
    args = _random_args(primitive, rng, n=12)
    expected = by_hand(*args)
    np.testing.assert_allclose(primitive.numpy(*args), expected, rtol=1e-10)
    tf_args = [tf.constant(a, tf.float64) for a in args]
    np.testing.assert_allclose(np.asarray(primitive.tensorflow(*tf_args)), expected, rtol=1e-10)
    np.testing.assert_allclose(_sympy_values(primitive, args), expected, rtol=1e-10)


def test_custom_constant_primitive(clean_registry):
    primitive = primitives.register_primitive("two_and_a_half", sympy.Rational(5, 2))
    assert primitive.arity == 0
    layer = EqlLayer(["two_and_a_half", "identity"])
    out = layer(np.zeros((3, 2), "float32")).numpy()
    np.testing.assert_array_equal(out[:, 0], 2.5)


def test_custom_primitive_round_trips_in_layer_config(clean_registry, rng):
    primitives.register_primitive("cubic_plus", lambda g: g**3 - g / 2)
    layer = EqlLayer(["cubic_plus", "identity", "cubic_plus"])
    assert layer.get_config()["primitives"] == ["cubic_plus", "identity", "cubic_plus"]
    clone = config_round_trip(layer)
    x = rng.uniform(-1, 1, (8, 3)).astype("float32")
    layer(x)
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x).numpy(), layer(x).numpy(), rtol=1e-6)
    g = x @ layer.linear.effective_kernel.numpy()
    # Grouped layout: both cubic_plus outputs first, then identity.
    np.testing.assert_allclose(layer(x).numpy()[:, :2], g[:, :2] ** 3 - g[:, :2] / 2,
                               rtol=1e-5, atol=1e-6)


def test_custom_primitive_survives_keras_file(clean_registry, rng, tmp_path):
    primitives.register_primitive("cubic_plus", lambda g: g**3 - g / 2)
    model = keras.Sequential([keras.Input((2,)), EqlLayer(["cubic_plus", "identity"])])
    x = rng.uniform(-1, 1, (8, 2)).astype("float32")
    path = tmp_path / "custom.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())


def test_overwrite_replaces_a_registration(clean_registry):
    primitives.register_primitive("mine", lambda g: 2 * g)
    primitives.register_primitive("mine", lambda g: 3 * g, overwrite=True)
    assert primitives.get("mine").numpy(1.0) == 3.0


@pytest.mark.parametrize("name", ["two words", "3d", "", None, "a-b"])
def test_register_rejects_bad_names(name, clean_registry):
    with pytest.raises(ValueError, match="argument `name`"):
        primitives.register_primitive(name, lambda g: g)


def test_register_rejects_duplicates_without_overwrite(clean_registry):
    with pytest.raises(ValueError, match="'square' is already registered.*overwrite"):
        primitives.register_primitive("square", lambda g: g * g)
    assert primitives.get("square").numpy(3.0) == 9.0


@pytest.mark.parametrize(
    "definition",
    [
        lambda a, b, c: a * b * c,  # too many arguments
        lambda g: g + sympy.Symbol("x"),  # a free symbol
        lambda g: sympy.gamma(g),  # a function no back end evaluates
    ],
    ids=["arity3", "free_symbol", "unsupported_function"],
)
def test_register_rejects_bad_definitions(definition, clean_registry):
    with pytest.raises(ValueError, match="argument `definition`"):
        primitives.register_primitive("bad", definition)
    assert "bad" not in primitives.registered_names()
