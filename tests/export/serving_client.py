"""A TF Serving stand-in run in a fresh process: TensorFlow and TensorFlow
Text only, never keras_attnpred.

    python serving_client.py EXPORT_DIR REQUESTS.json

REQUESTS.json holds a list of TF Serving REST request bodies (`instances`,
the row format, or `inputs`, the columnar format, with an optional
`signature_name`). Each is turned into tensors the way the server's REST API
does and run through the signature; the responses (`predictions` or
`outputs`, as the server answers) are printed as one JSON list.
"""

import json
import sys

import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the tokenizer's ops)

assert not any(m.startswith("keras_attnpred") for m in sys.modules), (
    "the client must not import keras_attnpred"
)


def tensor(value, spec):
    return tf.constant(value, dtype=spec.dtype)


def run(signatures, body):
    function = signatures[body.get("signature_name", "serving_default")]
    specs = function.structured_input_signature[1]
    if "instances" in body:
        instances = body["instances"]
        if len(specs) == 1 and not isinstance(instances[0], dict):
            (name,) = specs
            inputs = {name: [instance for instance in instances]}
        else:
            inputs = {n: [i[n] for i in instances] for n in specs}
    else:
        columns = body["inputs"]
        if not isinstance(columns, dict):
            (name,) = specs
            columns = {name: columns}
        inputs = dict(columns)
    outputs = function(**{n: tensor(v, specs[n]) for n, v in inputs.items()})
    outputs = {k: v.numpy() for k, v in outputs.items()}

    def plain(value):
        if value.dtype == object:
            return np.vectorize(lambda b: b.decode("utf-8"))(value).tolist() \
                if value.size else value.tolist()
        return value.tolist()

    if "instances" in body:
        count = len(next(iter(outputs.values())))
        return {"predictions": [
            {k: plain(v[i]) if isinstance(v[i], np.ndarray) else (
                v[i].decode("utf-8") if isinstance(v[i], bytes) else v[i].item()
            ) for k, v in outputs.items()}
            for i in range(count)
        ]}
    return {"outputs": {k: plain(v) for k, v in outputs.items()}}


def main(export_dir, requests_path):
    with open(requests_path, encoding="utf-8") as f:
        bodies = json.load(f)
    signatures = tf.saved_model.load(export_dir).signatures
    responses = [run(signatures, body) for body in bodies]
    print("RESPONSES " + json.dumps(responses))


if __name__ == "__main__":
    main(*sys.argv[1:])
