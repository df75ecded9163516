"""The query encoder on ONNX Runtime: the same vectors as sentence-transformers, refused when stale.

The Rasa side (the NLU featurizer running the same file) is checked in
tests/test_rasa_components.py against the same oracle.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from retrieval.encoder import HashingEncoder, OnnxEncoder, SentenceTransformerEncoder, bundled_model_path
from retrieval.errors import EncoderError
from retrieval.onnx_export import _fuse, is_current, main, source_fingerprint, stamp_path
from retrieval.settings import RetrievalSettings
from tests.conftest import ROOT

ONNX = RetrievalSettings.from_env({}).onnx_path

#: Written as shoppers type: typos, emoji, prices, a long rambling message, a bare word.
SHOPPER_MESSAGES = [
    "sofaa",
    "i need a grey corner sofa for my living room under 600",
    "something for a two-year-old under $20",
    "a present for my 8 year old nephew who loves dinosaurs",
    "none of these",
    "cheaper pls",
    "not leather!!",
    "👍",
    "the 2nd one 👎🏼",
    "asics running shoes size 9",
    "hmm actually, a lamp instead. something warm for reading in bed, not too bright, maybe brass? " * 12,
    "",
]


@pytest.mark.model
def test_onnx_vectors_are_sentence_transformers_vectors() -> None:
    onnx = OnnxEncoder(ONNX)
    got = onnx.encode(SHOPPER_MESSAGES)
    expected = SentenceTransformerEncoder().encode(SHOPPER_MESSAGES)
    assert got.shape == expected.shape == (len(SHOPPER_MESSAGES), 384)
    assert got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = (got * expected).sum(axis=1)
    assert cosines.min() >= 0.999, dict(zip(SHOPPER_MESSAGES, cosines.round(5).tolist(), strict=True))
    # Batched and one at a time agree: padding inside a batch changes nothing.
    assert np.allclose(onnx.encode([SHOPPER_MESSAGES[2]])[0], got[2], atol=1e-5)
    assert onnx.encode([]).shape == (0, 384)


@pytest.mark.model
def test_the_exported_file_runs_fused_attention() -> None:
    """ONNX Runtime's own BERT kernels, one of each per layer of MiniLM-L6: the speed the export is for."""
    import onnx

    ops: dict[str, int] = {}
    for node in onnx.load(str(ONNX)).graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    assert ops.get("Attention") == 6 and ops.get("SkipLayerNormalization") == 12, ops
    assert json.loads(stamp_path(ONNX).read_text(encoding="utf-8"))["fused"]["Attention"] == 6


def test_a_graph_the_optimizer_cannot_fuse_is_refused(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    tokens = helper.make_tensor_value_info("input_ids", TensorProto.FLOAT, [1, 3])
    hidden = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, [1, 3])
    graph = helper.make_graph([helper.make_node("Identity", ["input_ids"], ["last_hidden_state"])],
                              "not-bert", [tokens], [hidden])
    path = tmp_path / "model.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))

    class Config:
        num_attention_heads, hidden_size = 12, 384

    with pytest.raises(EncoderError, match="fused no attention"):
        _fuse(path, Config())


@pytest.mark.model
def test_a_file_exported_from_other_weights_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "model"
    shutil.copytree(bundled_model_path(), other)
    assert is_current(ONNX, bundled_model_path())
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "hidden_dropout_prob": 0.2}))
    assert source_fingerprint(other) != source_fingerprint(bundled_model_path())
    assert not is_current(ONNX, other)
    with pytest.raises(EncoderError, match="make setup"):
        OnnxEncoder(ONNX, other).encode(["a lamp"])


def test_a_missing_file_is_named_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(EncoderError, match=r"no ONNX model at .*make setup"):
        OnnxEncoder(tmp_path / "model.onnx").encode(["a lamp"])
    assert main(["--check", "--output", str(tmp_path / "model.onnx")]) == 1
    assert not stamp_path(tmp_path / "model.onnx").exists()


def test_weights_without_a_network_are_named(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(EncoderError, match="no model weights"):
        source_fingerprint(tmp_path)


def test_serving_embeds_queries_on_onnx_unless_told_otherwise() -> None:
    assert isinstance(RetrievalSettings.from_env({}).make_query_encoder(), OnnxEncoder)
    torch_queries = RetrievalSettings.from_env({"SHOPKEEPER_QUERY_ENCODER": "sentence-transformers"})
    assert isinstance(torch_queries.make_query_encoder(), SentenceTransformerEncoder)
    hashing = RetrievalSettings.from_env({"SHOPKEEPER_ENCODER": "hashing"})
    assert isinstance(hashing.make_query_encoder(), HashingEncoder)
    with pytest.raises(ValueError, match="SHOPKEEPER_QUERY_ENCODER"):
        RetrievalSettings.from_env({"SHOPKEEPER_QUERY_ENCODER": "tensorflow"})


@pytest.mark.model
def test_the_action_servers_retriever_answers_without_torch() -> None:
    # The serving process loads the saved index and embeds queries: torch (about 300 MB of
    # the action server's memory) is no longer imported at all.
    script = (
        "import sys\n"
        "from actions.services import retriever\n"
        "hits = retriever().search('a grey sofaa under 900', k=3)\n"
        "assert hits, 'no results'\n"
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["False", "False"]
