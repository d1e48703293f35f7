import numpy as np

from keras_attnpred.reserved_ids import PAD_ID


def translate_texts(
    texts,
    source_tokenizer,
    target_tokenizer,
    max_length,
    decode_batch,
    batch_size=64,
    fixed_width=False,
    return_batches=False,
):
    """Tokenizes, batches, decodes and detokenizes: the one path from texts
    to translations, of `Translator` (and its alignments) and of
    `TFLiteTranslator`; only `decode_batch` differs.

    Each text is tokenized with `source_tokenizer` and cut to `max_length`
    ids, as in training. Rows are sorted longest first, so similar lengths
    share a batch and its padding; each batch is filled up to `batch_size`
    rows by repeating its first row (which ends when that row does, so it
    never holds up an early stop), and its width is rounded up to a power
    of two (at most `max_length`), so a few compiled decoding loops serve
    any number of texts. A text without source tokens translates to `""`
    without decoding. The generated ids are detokenized into readable text,
    punctuation joined back onto its words.

    Args:
        texts: list of str (checked by the caller).
        source_tokenizer: the tokenizer of the source language.
        target_tokenizer: the tokenizer of the target language.
        max_length: int, the most source ids kept.
        decode_batch: function from an int32 source batch
            `(batch_size, width)` to the generated ids `(batch_size, steps)`
            (without the start id, 0 after the end id).
        batch_size: int, rows per batch.
        fixed_width: bool, every batch `max_length` wide (for models
            exported with a fixed input shape).
        return_batches: bool, also return what was decoded.

    Returns:
        The list of translations, one per text, in order. With
        `return_batches=True`, `(translations, rows, batches)`: the source
        ids of each text and, per batch, `(indices, source_batch,
        generated_ids)` whose first `len(indices)` rows are the texts at
        `indices`.

    Example:

    >>> def copy(batch):  # a "model" that returns the source
    ...     return batch
    >>> translate_texts(["a b", ""], tokenizer, tokenizer, 8, copy)
    ['a b', '']
    """
    # `keras_attnpred.text` needs TensorFlow; decoding itself does not.
    from keras_attnpred.text.join_punctuation import readable_text

    rows = [
        row[:max_length] for row in source_tokenizer.tokenize(texts).to_list()
    ] if texts else []
    translations, batches = [""] * len(rows), []
    for indices, batch in _batches(rows, batch_size, max_length, fixed_width):
        generated = np.asarray(decode_batch(batch))
        strings = target_tokenizer.detokenize(generated)
        for i, text in zip(indices, strings):
            translations[i] = readable_text(target_tokenizer, text)
        batches.append((indices, batch, generated))
    if return_batches:
        return translations, rows, batches
    return translations


def _batches(rows, batch_size, max_length, fixed_width):
    order = sorted(
        (i for i, row in enumerate(rows) if row), key=lambda i: -len(rows[i])
    )
    for begin in range(0, len(order), batch_size):
        indices = order[begin : begin + batch_size]
        chosen = [rows[i] for i in indices]
        if fixed_width:
            width = max_length
        else:
            longest = max(len(row) for row in chosen)
            width = min(1 << (longest - 1).bit_length(), max_length)
        chosen += [chosen[0]] * (batch_size - len(chosen))
        batch = np.full((len(chosen), width), PAD_ID, dtype="int32")
        for i, row in enumerate(chosen):
            batch[i, : len(row)] = row
        yield indices, batch
