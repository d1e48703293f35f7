"""The checks every layer of `keras_attnpred.layers` must pass.

A layer's test class inherits from `LayerChecks` and describes the layer:

    class TestMyLayer(LayerChecks):
        layer_cls = MyLayer
        init_kwargs = {"units": 8}

        def make_inputs(self):
            # Call arguments by name; the first is passed positionally.
            return {"inputs": random_floats((2, 5, 4))}

        def make_padded_inputs(self):
            # Token ids (0 = padding) per tensor argument, each with the
            # feature size its embedding should have; used by the mask checks.
            return {"inputs": (padded_ids(...), 4)}

Each check is then a separate test: config round trip (and completeness),
`.keras` save/reload (also after `Model.quantize`), symbolic/eager agreement
and output shapes, masks that really hide padding and are propagated, fully
padded rows without NaN, the mixed precision policies, and a
`jit_compile=True` training step.
"""

import inspect
import warnings

import keras
import numpy as np
import pytest
from keras import ops

_RNG = np.random.default_rng(1234)


def random_floats(shape, scale=1.0, seed=None):
    rng = _RNG if seed is None else np.random.default_rng(seed)
    return (rng.standard_normal(shape) * scale).astype("float32")


def padded_ids(lengths, max_length, vocabulary_size=20, seed=0):
    """Random ids in `[1, vocabulary_size)` with zeros after each length."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, vocabulary_size, size=(len(lengths), max_length))
    for row, length in enumerate(lengths):
        ids[row, length:] = 0
    return ids.astype("int32")


def xla_compile(fn):
    """`fn` compiled with XLA on the current backend."""
    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(fn)
    import tensorflow as tf

    return tf.function(fn, jit_compile=True)


def to_numpy(x):
    return ops.convert_to_numpy(x)


def first_output(outputs):
    return outputs[0] if isinstance(outputs, (tuple, list)) else outputs


class PerturbPadding(keras.layers.Layer):
    """Replaces the vectors at padded positions by `noise`, keeping the mask.

    A layer that really honours the mask gives the same outputs at real
    positions whatever the padded vectors hold.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, noise, inputs_mask=None):
        keep = ops.expand_dims(ops.cast(inputs_mask, "bool"), -1)
        return ops.where(keep, inputs, ops.cast(noise, inputs.dtype))

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask


class MaskAsOutput(keras.layers.Layer):
    """Outputs the Keras mask it receives, as float32, so a model can return it."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return None

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.full(ops.shape(inputs)[:1], -1.0)
        return ops.cast(mask, "float32")

    def compute_output_spec(self, inputs, mask=None):
        if mask is None:
            return keras.KerasTensor(inputs.shape[:1], "float32")
        return keras.KerasTensor(mask.shape, "float32")


def _init_argument_names(layer_cls):
    signature = inspect.signature(layer_cls.__init__)
    return [
        name
        for name, parameter in signature.parameters.items()
        if name != "self"
        and parameter.kind
        not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
    ]


def _quantization_modes(model):
    return {
        layer.path: layer.quantization_mode
        for layer in model._flatten_layers()
        if layer.quantization_mode is not None
    }


class LayerChecks:
    """Shared behaviour tests; subclasses describe one layer configuration."""

    layer_cls = None
    init_kwargs = {}
    # Extra keyword arguments for every call (e.g. `use_causal_mask=True`).
    call_kwargs = {}
    # Whether the layer has weights that a training step must change.
    has_trainable_weights = True
    # Set False for layers whose output has no time axis (e.g. pooling).
    output_is_sequence = True

    # --- what a subclass provides -------------------------------------------
    def make_inputs(self):
        raise NotImplementedError

    def make_padded_inputs(self):
        """Returns `{arg: (ids, feature_size)}`, or None to skip mask checks."""
        return None

    def expected_output_mask(self, padded_ids_by_arg):
        """The mask the layer should propagate, from the padded ids."""
        first_ids = next(iter(padded_ids_by_arg.values()))
        return first_ids != 0

    # --- helpers --------------------------------------------------------------
    def make_layer(self, **overrides):
        return self.layer_cls(**{**self.init_kwargs, **overrides})

    def call_layer(self, layer, tensors, **kwargs):
        names = list(tensors)
        first = tensors[names[0]]
        rest = {name: tensors[name] for name in names[1:]}
        return layer(first, **rest, **self.call_kwargs, **kwargs)

    def functional_model(self, layer, inputs):
        symbolic = {
            name: keras.Input(shape=value.shape[1:], dtype=value.dtype, name=name)
            for name, value in inputs.items()
        }
        outputs = self.call_layer(layer, symbolic)
        return keras.Model(symbolic, outputs)

    # --- the checks -----------------------------------------------------------
    def test_config_round_trip_and_complete(self):
        layer = self.make_layer()
        config = layer.get_config()
        missing = [
            name
            for name in _init_argument_names(self.layer_cls)
            if name not in config
        ]
        assert not missing, f"get_config() lacks constructor args {missing}"
        restored = self.layer_cls.from_config(config)
        assert restored.get_config() == config

    def test_registered_for_serialization(self):
        name = keras.saving.get_registered_name(self.layer_cls)
        assert name == f"keras_attnpred>{self.layer_cls.__name__}"

    def test_sublayers_start_from_independent_draws(self):
        """No two random weights come from one seed: Keras initializers fix
        their seed when created, and a shared instance would give, e.g.,
        equal query and key projections."""
        layer = self.make_layer()
        self.call_layer(layer, self.make_inputs())
        leads = {
            weight.path: to_numpy(weight).ravel()[:64].astype("float64")
            for weight in layer.weights
            if np.ptp(to_numpy(weight)) > 0  # not zeros or ones
        }
        for i, (name_a, a) in enumerate(leads.items()):
            for name_b, b in list(leads.items())[i + 1 :]:
                n = min(len(a), len(b))
                if n < 8:
                    continue
                correlation = np.corrcoef(a[:n], b[:n])[0, 1]
                assert abs(correlation) < 0.9, (name_a, name_b, correlation)

    def test_symbolic_call_matches_eager_call(self):
        inputs = self.make_inputs()
        layer = self.make_layer()
        eager = self.call_layer(layer, inputs)
        model = self.functional_model(layer, inputs)
        symbolic = model(inputs)
        eager_list = eager if isinstance(eager, (tuple, list)) else [eager]
        symbolic_list = (
            symbolic if isinstance(symbolic, (tuple, list)) else [symbolic]
        )
        assert len(eager_list) == len(symbolic_list)
        for declared, eager_out, symbolic_out in zip(
            model.outputs, eager_list, symbolic_list
        ):
            # The declared (compute_output_shape) shape must fit the real one.
            real_shape = tuple(to_numpy(eager_out).shape)
            assert len(declared.shape) == len(real_shape)
            for declared_dim, real_dim in zip(declared.shape, real_shape):
                assert declared_dim in (None, real_dim), (
                    declared.shape,
                    real_shape,
                )
            np.testing.assert_allclose(
                to_numpy(eager_out), to_numpy(symbolic_out), rtol=1e-5, atol=1e-5
            )

    def test_keras_file_save_and_reload(self, tmp_path):
        inputs = self.make_inputs()
        model = self.functional_model(self.make_layer(), inputs)
        expected = model(inputs)
        path = tmp_path / "model.keras"
        model.save(path)
        # No `custom_objects`: registration alone must be enough.
        reloaded = keras.models.load_model(path)
        actual = reloaded(inputs)
        expected = expected if isinstance(expected, (tuple, list)) else [expected]
        actual = actual if isinstance(actual, (tuple, list)) else [actual]
        assert len(actual) == len(expected)
        for want, got in zip(expected, actual):
            np.testing.assert_allclose(
                to_numpy(got), to_numpy(want), rtol=1e-6, atol=1e-6
            )

    @pytest.mark.parametrize("mode", ["int8", "int4", "float8"])
    def test_quantized_model_save_and_reload(self, mode, tmp_path):
        """A quantized model reloads with its sublayers still quantized.

        A layer that builds its own sublayers builds them again from its
        config when loaded; without the quantized policies in that config the
        saved weights do not fit (`keras.layers.MultiHeadAttention` fails so).
        """
        inputs = self.make_inputs()
        layer = self.make_layer()
        model = self.functional_model(layer, inputs)
        with warnings.catch_warnings():
            # Norms and dropout say they cannot be quantized.
            warnings.simplefilter("ignore")
            model.quantize(mode)
        modes = _quantization_modes(model)
        if not modes:
            pytest.skip("no sublayer that Keras quantizes")
        # No projection left in float (Keras skips subclasses of its layers
        # that do not say how they quantize).
        projections = (keras.layers.Dense, keras.layers.EinsumDense)
        assert not [
            sublayer.path
            for sublayer in model._flatten_layers()
            if isinstance(sublayer, projections)
            and sublayer.quantization_mode is None
        ]
        expected = [to_numpy(x) for x in keras.tree.flatten(model(inputs))]
        path = tmp_path / "quantized.keras"
        model.save(path)
        reloaded = keras.models.load_model(path)
        assert _quantization_modes(reloaded) == modes
        # The quantized sublayers stay in the config of an unbuilt copy.
        config = layer.get_config()
        assert self.layer_cls.from_config(config).get_config() == config
        copy = keras.Model.from_config(reloaded.get_config())
        copy.set_weights(reloaded.get_weights())
        assert _quantization_modes(copy) == modes
        actual = [to_numpy(x) for x in keras.tree.flatten(reloaded(inputs))]
        for want, got in zip(expected, actual, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)

    def _masked_model(self, layer, padded):
        ids_inputs, noise_inputs, embedded = {}, {}, {}
        for name, (ids, feature_size) in padded.items():
            ids_in = keras.Input(shape=ids.shape[1:], dtype="int32", name=name)
            noise_in = keras.Input(
                shape=ids.shape[1:] + (feature_size,), name=f"{name}_noise"
            )
            embedding = keras.layers.Embedding(
                int(ids.max()) + 1, feature_size, mask_zero=True
            )
            embedded[name] = PerturbPadding()(embedding(ids_in), noise_in)
            ids_inputs[name] = ids_in
            noise_inputs[f"{name}_noise"] = noise_in
        outputs = first_output(self.call_layer(layer, embedded))
        propagated_mask = MaskAsOutput()(outputs)
        return keras.Model({**ids_inputs, **noise_inputs}, [outputs, propagated_mask])

    def _padded_feed(self, padded, noise_seed, noise_scale=1.0):
        feed = {}
        for name, (ids, feature_size) in padded.items():
            feed[name] = ids
            feed[f"{name}_noise"] = random_floats(
                ids.shape + (feature_size,), scale=noise_scale, seed=noise_seed
            )
        return feed

    def test_mask_hides_padding(self):
        padded = self.make_padded_inputs()
        if padded is None:
            pytest.skip("layer takes no padded sequences")
        model = self._masked_model(self.make_layer(), padded)
        out_a, _ = model(self._padded_feed(padded, noise_seed=1))
        out_b, _ = model(self._padded_feed(padded, noise_seed=2, noise_scale=50.0))
        out_a, out_b = to_numpy(out_a), to_numpy(out_b)
        ids_by_arg = {name: ids for name, (ids, _) in padded.items()}
        if self.output_is_sequence:
            real = self.expected_output_mask(ids_by_arg)
            np.testing.assert_allclose(out_a[real], out_b[real], rtol=1e-5, atol=1e-5)
        else:
            np.testing.assert_allclose(out_a, out_b, rtol=1e-5, atol=1e-5)

    def test_mask_is_propagated(self):
        padded = self.make_padded_inputs()
        if padded is None:
            pytest.skip("layer takes no padded sequences")
        model = self._masked_model(self.make_layer(), padded)
        _, propagated = model(self._padded_feed(padded, noise_seed=1))
        propagated = to_numpy(propagated)
        if not self.output_is_sequence:
            # No time axis left: no mask must be passed on.
            assert (propagated == -1.0).all()
            return
        ids_by_arg = {name: ids for name, (ids, _) in padded.items()}
        np.testing.assert_array_equal(
            propagated, self.expected_output_mask(ids_by_arg).astype("float32")
        )

    def test_fully_padded_rows_give_no_nan(self):
        padded = self.make_padded_inputs()
        if padded is None:
            pytest.skip("layer takes no padded sequences")
        all_padding = {
            name: (np.zeros_like(ids), size) for name, (ids, size) in padded.items()
        }
        for name, (ids, _) in padded.items():
            all_padding[name][0][0] = ids[0]  # one real row next to empty ones
        model = self._masked_model(self.make_layer(), all_padding)
        outputs, _ = model(self._padded_feed(all_padding, noise_seed=3))
        assert np.isfinite(to_numpy(outputs)).all()

    @pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
    def test_mixed_precision(self, policy, dtype_policy):
        dtype_policy(policy)
        compute_dtype = keras.mixed_precision.Policy(policy).compute_dtype
        layer = self.make_layer()
        inputs = self.make_inputs()
        outputs = self.call_layer(layer, inputs)
        outputs = outputs if isinstance(outputs, (tuple, list)) else [outputs]
        main = outputs[0]
        if "float" in str(main.dtype):
            assert ops.dtype(main) == compute_dtype
        for output in outputs:
            assert np.isfinite(to_numpy(ops.cast(output, "float32"))).all()
        for weight in layer.weights:
            assert weight.dtype == "float32", weight.path

    def test_jit_compiled_training_step(self):
        inputs = self.make_inputs()
        model = self.functional_model(self.make_layer(), inputs)
        prediction = first_output(model(inputs))
        target = np.zeros(to_numpy(prediction).shape, "float32")
        if isinstance(model.outputs, list) and len(model.outputs) > 1:
            model = keras.Model(model.inputs, model.outputs[0])
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", jit_compile=True)
        before = [to_numpy(w).copy() for w in model.trainable_weights]
        loss = model.train_on_batch(inputs, target)
        assert np.isfinite(loss)
        if self.has_trainable_weights:
            after = [to_numpy(w) for w in model.trainable_weights]
            assert any(not np.allclose(b, a) for b, a in zip(before, after))
