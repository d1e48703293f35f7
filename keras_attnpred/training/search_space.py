import json
import math
import os

from keras_attnpred.training import training_config as _config
from keras_attnpred.training.training_config import TrainingConfig

# Plain Python, like `TrainingConfig`: `attnpred tune` checks a space before
# it loads Keras or KerasTuner.

# The `TrainingConfig` fields that take a number, by kind.
INT_FIELDS = (
    "max_length", "head_tokens", "epochs", "batch_size", "max_tokens",
    "warmup_steps", "seed", "early_stopping_patience", "bigram_buckets",
    "average_last_epochs", "embedding_dim", "units", "lora_rank",
    "attention_maps",
)
FLOAT_FIELDS = (
    "learning_rate", "weight_decay", "label_smoothing", "clipnorm",
    "dropout", "activation_dropout", "mask_rate", "layer_decay",
    "time_limit",
)
# Not searched: the data is prepared once for all trials, and paths name
# files rather than settings.
FIXED_FIELDS = tuple(_config.PREPARATION_FIELDS) + ("prepared", "init_from")
_RANGE_KEYS = {"min", "max", "step", "log", "when"}
_CHOICE_KEYS = {"choices", "when"}


class SearchSpace:
    """The `TrainingConfig` fields a hyper-parameter search varies.

    Read from a mapping (a YAML file, `from_file`) of field names to:

    - a list: the choices, e.g. `preset: [tiny, small]` (any values the
      field takes, `null` and lists included);
    - `{min: A, max: B}`: a range of a numeric field, integers for an int
      field (`batch_size`), floats otherwise (`dropout`), with optional
      `step: S` (a grid of `A, A+S, ...`) and `log: true` (sampled
      uniformly on a log scale; then `0 < A`);
    - either of them, as a mapping, with `when: {FIELD: VALUE}` (or a list
      of values): the field is searched only in trials where `FIELD`, a
      choice of this space, takes one of these values, e.g. the RNN's
      `units` only for `model: rnn`. Elsewhere the base configuration's
      value applies. `{choices: [...]}` spells a list of choices that has a
      condition.

    ```yaml
    model: [transformer, rnn]
    learning_rate: {min: 1.0e-4, max: 3.0e-3, log: true}
    batch_size: [32, 64]
    dropout: {min: 0.0, max: 0.3, step: 0.1, when: {model: transformer}}
    units: {choices: [64, 128, 256], when: {model: rnn}}
    ```

    The data settings (`PREPARATION_FIELDS`, `prepared`) and `init_from`
    are not searched: every trial trains on the same prepared data.

    Raises:
        ValueError: naming the field and the value received, for an unknown
            field, an empty choice list, a bound that is not a number, a
            minimum above the maximum, a range of a field that takes no
            number, a log range whose minimum is not above 0, a condition
            on a field that is not a choice of the space (or a value it
            does not offer), ...

    Example:

    >>> space = SearchSpace.from_dict(
    ...     {"learning_rate": {"min": 1e-4, "max": 1e-2, "log": True},
    ...      "model": ["transformer", "rnn"],
    ...      "units": {"choices": [32, 64], "when": {"model": "rnn"}}})
    >>> space.names
    ('learning_rate', 'model', 'units')
    >>> space.config_values({"learning_rate": 0.001, "model": "transformer"})
    {'learning_rate': 0.001, 'model': 'transformer'}
    """

    def __init__(self, entries):
        self.entries = entries

    @property
    def names(self):
        """The searched field names, in the order of the space."""
        return tuple(entry["field"] for entry in self.entries)

    @classmethod
    def from_dict(cls, values):
        """A `SearchSpace` from a mapping of field names (see the class)."""
        if not isinstance(values, dict) or not values:
            raise ValueError(
                "A search space must be a non-empty mapping of "
                "`TrainingConfig` fields. Received: "
                f"{_config._short(values)}"
            )
        known = set(TrainingConfig.defaults()) | {"task"}
        entries = []
        for field, spec in values.items():
            if field not in known:
                raise ValueError(
                    f"Unknown search space field: {field!r}; the fields are "
                    f"those of TrainingConfig: {sorted(known)}. Received: "
                    f"field={field!r}"
                )
            if field in FIXED_FIELDS:
                raise ValueError(
                    f"`{field}` cannot be searched: the data is prepared "
                    "once for all trials (give it in the base "
                    f"configuration). Received: field={field!r}"
                )
            entries.append(_entry(field, spec))
        choices = {e["field"]: e for e in entries if e["kind"] == "choice"}
        for entry in entries:
            _check_condition(entry, choices)
        # A condition's field is declared before the fields it governs.
        entries.sort(key=lambda e: e["when"] is not None)
        return cls(entries)

    @classmethod
    def coerce(cls, space):
        """`space` as a `SearchSpace`: one already, a dict for `from_dict`
        or the path of a file for `from_file`; anything else raises a
        `ValueError` (as `TrainingConfig.coerce`)."""
        if isinstance(space, (str, os.PathLike)):
            space = cls.from_file(os.fspath(space))
        elif isinstance(space, dict):
            space = cls.from_dict(space)
        if not isinstance(space, cls):
            raise ValueError(
                "`space` must be a `SearchSpace`, a dict or a file path. "
                f"Received: space of type {type(space).__name__}"
            )
        return space

    @classmethod
    def from_file(cls, path):
        """Reads a space from a `.yaml`/`.yml` or `.json` file (with the
        safe loader of `TrainingConfig.from_file`)."""
        with open(path, encoding="utf-8") as f:
            text = f.read()
        try:
            if os.path.splitext(path)[1].lower() in (".yaml", ".yml"):
                import yaml

                try:
                    values = yaml.load(text, Loader=_config._config_loader())
                except yaml.YAMLError as error:
                    raise ValueError(f"not valid YAML: {error}") from None
            else:
                try:
                    values = json.loads(text)
                except json.JSONDecodeError as error:
                    raise ValueError(f"not valid JSON: {error}") from None
            return cls.from_dict(values)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None

    def to_dict(self):
        """The space as `from_dict` reads it (JSON-ready)."""
        values = {}
        for entry in self.entries:
            if entry["kind"] == "choice":
                spec = {"choices": entry["choices"]}
            else:
                spec = {"min": entry["min"], "max": entry["max"]}
                if entry["step"] is not None:
                    spec["step"] = entry["step"]
                if entry["log"]:
                    spec["log"] = True
            if entry["when"] is not None:
                spec["when"] = {entry["when"][0]: list(entry["when"][1])}
            values[entry["field"]] = spec
        return json.loads(json.dumps(values))

    def check(self, base):
        """Checks every choice and bound against the base configuration
        (`TrainingConfig` or dict): each must make a valid configuration,
        with the values of its condition. Raises a `ValueError` naming the
        field and value."""
        base = TrainingConfig.coerce(base).to_dict()
        for entry in self.entries:
            values = (
                entry["choices"] if entry["kind"] == "choice"
                else [entry["min"], entry["max"]]
            )
            condition = {}
            if entry["when"] is not None:
                condition = {entry["when"][0]: entry["when"][1][0]}
            for value in values:
                try:
                    TrainingConfig.from_dict(
                        {**base, **condition, entry["field"]: value}
                    )
                except ValueError as error:
                    raise ValueError(
                        f"Search space field `{entry['field']}`: the value "
                        f"{value!r} makes no valid configuration with the "
                        f"base one ({error}). Received: "
                        f"field={entry['field']!r}, value={value!r}"
                    ) from None

    def declare(self, hp):
        """Declares the space on a `keras_tuner.HyperParameters`."""
        for entry in self.entries:
            field, condition = entry["field"], entry["when"]
            scope = {}
            if condition is not None:
                scope = dict(
                    parent_name=condition[0],
                    parent_values=[
                        _encoded(self._entry(condition[0]), v)
                        for v in condition[1]
                    ],
                )
            if entry["kind"] == "choice":
                hp.Choice(
                    field,
                    [_encoded(entry, v) for v in entry["choices"]],
                    ordered=False if entry["encoded"] else None,
                    **scope,
                )
            else:
                make = hp.Int if field in INT_FIELDS else hp.Float
                options = {"sampling": "log"} if entry["log"] else {}
                if entry["step"] is not None:
                    options["step"] = entry["step"]
                make(field, entry["min"], entry["max"], **options, **scope)

    def config_values(self, values, is_active=None):
        """The configuration fields of a trial's hyper-parameter `values`
        (a dict): those of the space, decoded, that are active
        (`is_active(name)`, default: present in `values`)."""
        chosen = {}
        for entry in self.entries:
            field = entry["field"]
            if field not in values or (
                is_active is not None and not is_active(field)
            ):
                continue
            value = values[field]
            if entry["kind"] == "choice" and entry["encoded"]:
                value = json.loads(value)
            elif field in FLOAT_FIELDS and value is not None:
                value = float(value)
            elif field in INT_FIELDS and value is not None:
                value = int(value)
            chosen[field] = value
        return chosen

    def _entry(self, field):
        return next(e for e in self.entries if e["field"] == field)

    def __repr__(self):
        return f"SearchSpace({self.to_dict()!r})"


def _entry(field, spec):
    when = None
    if isinstance(spec, dict):
        when = spec.get("when")
        if "choices" in spec:
            _check_keys(field, spec, _CHOICE_KEYS)
            spec = spec["choices"]
        elif "min" in spec or "max" in spec:
            _check_keys(field, spec, _RANGE_KEYS)
            return dict(_range(field, spec), when=_condition(field, when))
        else:
            raise ValueError(
                f"Search space field `{field}` must be a list of choices, "
                "`{choices: [...]}` or a range `{min: A, max: B}`. "
                f"Received: field={field!r}, value={_config._short(spec)}"
            )
    if not isinstance(spec, list):
        raise ValueError(
            f"Search space field `{field}` must be a list of choices or a "
            "range `{min: A, max: B}`. Received: "
            f"field={field!r}, value={_config._short(spec)}"
        )
    if not spec:
        raise ValueError(
            f"Search space field `{field}` has an empty list of choices. "
            f"Received: field={field!r}, choices=[]"
        )
    choices = [float(v) if field in FLOAT_FIELDS and _is_number(v) else v
               for v in spec]
    keys = [json.dumps(v, sort_keys=True) for v in choices]
    if len(set(keys)) != len(keys):
        raise ValueError(
            f"Search space field `{field}` lists a choice twice. Received: "
            f"field={field!r}, choices={_config._short(spec)}"
        )
    return {
        "field": field,
        "kind": "choice",
        "choices": choices,
        # KerasTuner's `Choice` takes values of one type among str, int and
        # float (it turns bools into ints): others go as JSON text.
        "encoded": not _plain(choices),
        "when": _condition(field, when),
    }


def _plain(values):
    kinds = {type(v) for v in values}
    return len(kinds) == 1 and kinds.pop() in (str, int, float)


def _encoded(entry, value):
    return json.dumps(value) if entry["encoded"] else value


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_keys(field, spec, allowed):
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ValueError(
            f"Search space field `{field}` has unknown keys {unknown}; it "
            f"takes {sorted(allowed)}. Received: field={field!r}, "
            f"keys={unknown}"
        )


def _range(field, spec):
    if field not in INT_FIELDS and field not in FLOAT_FIELDS:
        raise ValueError(
            f"Search space field `{field}` takes no number, so it has no "
            "range: give a list of choices. Received: "
            f"field={field!r}, value={_config._short(spec)}"
        )
    integer = field in INT_FIELDS
    bounds = {}
    for key in ("min", "max"):
        value = spec.get(key)
        ok = _is_number(value) and math.isfinite(value) and (
            not integer or isinstance(value, int)
        )
        if not ok:
            kind = "an integer" if integer else "a finite number"
            raise ValueError(
                f"Search space field `{field}`: `{key}` must be {kind}. "
                f"Received: field={field!r}, {key}={value!r}"
            )
        bounds[key] = value if integer else float(value)
    if bounds["min"] > bounds["max"]:
        raise ValueError(
            f"Search space field `{field}`: `min` must be at most `max`. "
            f"Received: field={field!r}, min={bounds['min']!r}, "
            f"max={bounds['max']!r}"
        )
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise ValueError(
            f"Search space field `{field}`: `log` must be a bool. Received: "
            f"field={field!r}, log={log!r}"
        )
    if log and bounds["min"] <= 0:
        raise ValueError(
            f"Search space field `{field}`: a log range needs `min` > 0. "
            f"Received: field={field!r}, min={bounds['min']!r}"
        )
    step = spec.get("step")
    if step is not None:
        ok = _is_number(step) and math.isfinite(step) and step > 0 and (
            not integer or isinstance(step, int)
        ) and (not log or step > 1)
        if not ok:
            needed = (
                "a factor > 1 (log range)" if log
                else "an integer > 0" if integer else "a number > 0"
            )
            raise ValueError(
                f"Search space field `{field}`: `step` must be {needed}. "
                f"Received: field={field!r}, step={step!r}"
            )
    return {"field": field, "kind": "range", "min": bounds["min"],
            "max": bounds["max"], "step": step, "log": log}


def _condition(field, when):
    if when is None:
        return None
    if not isinstance(when, dict) or len(when) != 1:
        raise ValueError(
            f"Search space field `{field}`: `when` must name one field and "
            f"its value(s), e.g. {{model: rnn}}. Received: field={field!r}, "
            f"when={_config._short(when)}"
        )
    [(parent, values)] = when.items()
    if not isinstance(values, list):
        values = [values]
    if not values:
        raise ValueError(
            f"Search space field `{field}`: `when` lists no value. "
            f"Received: field={field!r}, when={_config._short(when)}"
        )
    return (parent, values)


def _check_condition(entry, choices):
    if entry["when"] is None:
        return
    field = entry["field"]
    parent, values = entry["when"]
    if parent not in choices or choices[parent]["when"] is not None:
        raise ValueError(
            f"Search space field `{field}`: its condition names `{parent}`, "
            "which is not an unconditional list of choices in the space. "
            f"Received: field={field!r}, when={{{parent!r}: {values!r}}}"
        )
    offered = choices[parent]["choices"]
    for value in values:
        if value not in offered:
            raise ValueError(
                f"Search space field `{field}`: `{parent}` offers no "
                f"{value!r} (its choices are {offered}). Received: "
                f"field={field!r}, when={{{parent!r}: {values!r}}}"
            )
