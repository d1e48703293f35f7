import numpy as np

from keras_attnpred.decoding.greedy_search import greedy_search
from keras_attnpred.explain import _model_parts as parts
from keras_attnpred.explain.alignment import Alignment
from keras_attnpred.explain.translation_alignment import translation_alignment


def align_translations(translator, texts, batch_size=64):
    """Translates texts with greedy search and returns their alignments.

    `Translator.translate(texts, return_attention=True)` calls this. Each
    batch is decoded with `greedy_search`, then run once more,
    teacher-forced on the generated tokens, to read the cross-attention
    (`translation_alignment`) of the steps that generated them.

    Args:
        translator: a `keras_attnpred.decoding.Translator`.
        texts: list of str (already checked by the translator).
        batch_size: int, texts decoded together.

    Returns:
        A tuple `(translations, alignments)`: the list of str, and one
        `Alignment` per text, between the source pieces and the generated
        pieces (`[END]` included when generated). A text without source
        tokens translates to `""` with an empty alignment.
    """
    # `keras_attnpred.text` needs TensorFlow; the rest runs on JAX too.
    from keras_attnpred.text.join_punctuation import readable_text

    if not texts:
        return [], []
    source_tokenizer = translator.source_tokenizer
    target_tokenizer = translator.target_tokenizer
    start_id = getattr(target_tokenizer, "START_ID", 2)
    end_id = getattr(target_tokenizer, "END_ID", 3)
    rows = [
        row[: translator.max_length]
        for row in source_tokenizer.tokenize(texts).to_list()
    ]
    translations, alignments = [""] * len(texts), [None] * len(texts)
    real = [i for i, row in enumerate(rows) if row]
    for begin in range(0, len(real), batch_size):
        indices = real[begin : begin + batch_size]
        source = translator._source_batch(
            [rows[i] for i in indices], len(indices)
        )
        generated = greedy_search(
            translator.model,
            source,
            max_length=translator.max_length,
            start_id=start_id,
            end_id=end_id,
        )
        # Step t's decoder input is the token generated at t - 1.
        inputs = np.concatenate(
            [np.full((len(indices), 1), start_id, "int32"), generated[:, :-1]],
            axis=1,
        )
        weights = translation_alignment(translator.model, source, inputs)
        texts_out = target_tokenizer.detokenize(generated)
        for k, i in enumerate(indices):
            ids = _until_end(generated[k], end_id)
            alignments[i] = Alignment(
                weights[k, :, :, : len(ids), : len(rows[i])],
                [source_tokenizer.id_to_token(int(t)) for t in rows[i]],
                [target_tokenizer.id_to_token(int(t)) for t in ids],
            )
            translations[i] = readable_text(target_tokenizer, texts_out[k])
    if len(real) < len(texts):
        layers, heads = _layout(alignments, translator.model)
        for i, alignment in enumerate(alignments):
            if alignment is None:
                alignments[i] = Alignment(
                    np.zeros((layers, heads, 0, 0)), [], []
                )
    return translations, alignments


def _until_end(ids, end_id):
    """The generated ids up to and including `end_id` (if generated)."""
    ends = np.flatnonzero(ids == end_id)
    return ids[: ends[0] + 1] if len(ends) else ids[ids != 0]


def _layout(alignments, model):
    for alignment in alignments:
        if alignment is not None:
            return alignment.num_layers, alignment.num_heads
    transformer = parts.transformer_translator_parts(model)
    if transformer is None:
        return 1, 1
    return len(transformer["decoders"]), transformer["decoders"][0].num_heads
