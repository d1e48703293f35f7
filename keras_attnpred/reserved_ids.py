"""The token ids and tokens that every tokenizer and model of the package
reserves.

The tokenizers put these four tokens first in every vocabulary, the models
treat `PAD_ID` as padding (hidden from attention, pooling and losses), and
the translators frame every target with `START_ID` and `END_ID`.
"""

PAD_ID = 0
UNK_ID = 1
START_ID = 2
END_ID = 3
# Pretraining's [MASK]: encoder inputs never hold [START] (only decoder
# inputs do), so its embedding is free to stand for a masked piece, and
# vocabularies keep their four reserved tokens.
MASK_ID = START_ID

PAD_TOKEN = "[PAD]"
UNK_TOKEN = "[UNK]"
START_TOKEN = "[START]"
END_TOKEN = "[END]"

RESERVED_TOKENS = (PAD_TOKEN, UNK_TOKEN, START_TOKEN, END_TOKEN)
