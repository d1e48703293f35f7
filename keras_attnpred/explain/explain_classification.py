import numpy as np
from keras import ops

from keras_attnpred.explain.attention_rollout import attention_rollout
from keras_attnpred.explain.self_attention_weights import self_attention_weights
from keras_attnpred.explain.text_explanation import TextExplanation
from keras_attnpred.explain.token_importance import token_importance
from keras_attnpred.models import TextClassifier
from keras_attnpred.models import TransformerEncoderBackbone
from keras_attnpred.models import upgrade_legacy_model
from keras_attnpred.reserved_ids import PAD_ID
from keras_attnpred.validation import check_bool
from keras_attnpred.validation import check_positive_int
from keras_attnpred.validation import check_texts


def explain_classification(
    model,
    tokenizer,
    texts,
    label_names=None,
    max_length=None,
    method="auto",
    return_attention=False,
):
    """Classifies texts and tells which tokens the decision rests on.

    Each text is tokenized with `tokenizer` and cut to `max_length` ids, as
    `classification_dataset` does in training; the texts are classified in
    one padded batch and `token_importance` weighs their tokens.

    Args:
        model: a `TextClassifier` from `keras_attnpred.models` (logits
            out); a model saved by an earlier version of the builders goes
            through `upgrade_legacy_model` first.
        tokenizer: the `SubwordTokenizer` or `SentencePieceTokenizer` of
            the model.
        texts: list of str.
        label_names: optional list of str, the class names by id.
        max_length: optional int, the most ids kept per text (the
            `max_length` of training).
        method: `"auto"`, `"pooling"` or `"rollout"`, see
            `token_importance`.
        return_attention: bool, also fill each explanation's `attention`
            (every layer and head, `self_attention_weights`) and `rollout`
            (`attention_rollout`) for a Transformer classifier, and its
            `pooling_weights` for attention pooling: what
            `AttentionExplorer` shows.

    Returns:
        A list of `TextExplanation`, one per text, over the subword pieces
        (call `merge_subwords()` for words).

    Example:

    >>> run = TrainingRun.load(sentiment_run)
    >>> [explanation] = explain_classification(
    ...     run.model, run.tokenizer, ["A wonderful film."],
    ...     label_names=run.label_names, max_length=run.config.max_length)
    >>> explanation.label_name
    'positive'
    >>> words = explanation.merge_subwords()
    >>> words.tokens[words.weights.argmax()]
    'wonderful'
    >>> page = words.to_html("review.html")
    """
    model = upgrade_legacy_model(model)
    from keras_attnpred.text import check_tokenizer  # needs TensorFlow

    check_tokenizer("tokenizer", tokenizer)
    texts = check_texts("texts", texts, allow_empty=True)
    check_positive_int("max_length", max_length, allow_none=True)
    check_bool("return_attention", return_attention)
    rows = [row[:max_length] for row in tokenizer.tokenize(texts).to_list()]
    ids = np.full((len(rows), max(1, max(map(len, rows)))), PAD_ID, "int32")
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
    logits = ops.cast(model(ids, training=False), "float32")
    probabilities = ops.convert_to_numpy(ops.softmax(logits, axis=-1))
    importance = token_importance(model, ids, method=method)
    maps = _attention_maps(model, ids) if return_attention else {}
    explanations = []
    for k, (row, weights, probability) in enumerate(
        zip(rows, importance, probabilities)
    ):
        label = int(np.argmax(probability))
        n = len(row)
        explanations.append(
            TextExplanation(
                [tokenizer.id_to_token(int(i)) for i in row],
                weights[:n],
                label=label,
                label_name=None if label_names is None else label_names[label],
                probability=float(probability[label]),
                **{
                    name: value[k][..., :n, :n] if value.ndim > 2
                    else value[k][:n]
                    for name, value in maps.items()
                },
            )
        )
    return explanations


def _attention_maps(model, ids):
    """What the model has of `attention`, `rollout` and `pooling_weights`."""
    maps = {}
    if isinstance(model, TextClassifier) and model.pooling == "attention":
        maps["pooling_weights"] = np.asarray(
            model.pooling_weights(ids), "float32"
        )
    if isinstance(model, TextClassifier) and isinstance(
        model.backbone, TransformerEncoderBackbone
    ):
        maps["attention"] = self_attention_weights(model, ids)
        maps["rollout"] = attention_rollout(maps["attention"], ids != PAD_ID)
    return maps
