"""all-MiniLM-L6-v2 as one ONNX file, exported offline from the packaged weights.

Both runtimes that embed a customer's message read this one file with ONNX Runtime:
the action server's query encoder (:class:`retrieval.encoder.OnnxEncoder`) and the
NLU featurizer inside the Rasa server (``bot/rasa_components.py``). On one thread a
short message takes about 4 ms there against about 11 ms through sentence-transformers
on torch, with the same vector (cosine ≥ 0.999 is tested; docs/BENCHMARKS.md).

The file holds the transformer only (token ids in, ``last_hidden_state`` out, fp32);
tokenising and mean pooling stay with the caller. It is exported with the model's plain
("eager") attention, which ONNX Runtime's transformer optimizer recognises and fuses into
its Attention, SkipLayerNormalization and BiasGelu kernels: the same vectors, measured a
little faster per message (docs/BENCHMARKS.md, "One MiniLM runtime"). ``make setup`` runs this module; it
exports only when ``source.json`` beside the file does not match the weights, so a new
model package (or ``SHOPKEEPER_MODEL_PATH``) makes a new file and nothing else does::

    .venv/bin/python -m retrieval.onnx_export            # build/minilm-onnx/model.onnx
    .venv/bin/python -m retrieval.onnx_export --check    # exit 1 when missing or stale

Why not sentence-transformers' own ONNX backend: it exports and loads through
``optimum``, whose releases pin transformers to narrow ranges; the Rasa environment is
held at transformers 4.36 and could not share it. ``torch.onnx.export`` needs only the
``onnx`` package, and the reader needs only ``onnxruntime`` and a tokenizer.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from retrieval.encoder import bundled_model_path
from retrieval.errors import EncoderError

__all__ = ["INPUT_NAMES", "OUTPUT_NAME", "export", "is_current", "source_fingerprint", "stamp_path"]

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "last_hidden_state"
#: Bumped when the export itself changes (inputs, opset, fusion): an old file is then rebuilt.
EXPORT_VERSION = 2
OPSET = 17
#: The files of a sentence-transformers model directory that decide the network's weights.
_WEIGHT_FILES = ("config.json", "model.safetensors", "pytorch_model.bin")


def source_fingerprint(model_dir: Path) -> str:
    """SHA-256 over the model's configuration and weight files and :data:`EXPORT_VERSION`.

    Raises:
        EncoderError: when the directory holds no weights.
    """
    digest = hashlib.sha256(f"export-{EXPORT_VERSION}-opset-{OPSET}".encode())
    found = False
    for name in _WEIGHT_FILES:
        path = model_dir / name
        if path.is_file():
            found = found or name != "config.json"
            digest.update(name.encode())
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    if not found:
        raise EncoderError(f"no model weights (model.safetensors or pytorch_model.bin) in {str(model_dir)!r}")
    return digest.hexdigest()


def stamp_path(onnx_path: Path) -> Path:
    """The ``source.json`` written beside an exported file."""
    return onnx_path.with_name("source.json")


def is_current(onnx_path: Path, model_dir: Path) -> bool:
    """Whether ``onnx_path`` exists and was exported from ``model_dir``'s present weights."""
    try:
        stamp = json.loads(stamp_path(onnx_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return onnx_path.is_file() and stamp.get("fingerprint") == source_fingerprint(model_dir)


def export(model_dir: Path, onnx_path: Path) -> Path:
    """Export the transformer of ``model_dir`` to ``onnx_path`` (replaced atomically) and stamp it.

    Raises:
        EncoderError: when the model cannot be loaded or exported.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel

    fingerprint = source_fingerprint(model_dir)
    try:
        # Eager attention traces to the pattern the optimizer fuses; SDPA's does not.
        network = AutoModel.from_pretrained(str(model_dir), local_files_only=True,
                                            attn_implementation="eager").eval()
    except Exception as exc:  # the library raises many kinds; name them as ours
        raise EncoderError(f"could not load the model at {str(model_dir)!r}: {exc}") from exc

    class _HiddenStates(torch.nn.Module):
        """Keyword arguments only: the model's positional order changes between releases."""

        def __init__(self) -> None:
            super().__init__()
            self.network = network

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.network(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    sample = torch.tensor([[101, 7592, 102]])
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUT_NAMES, OUTPUT_NAME)}
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=onnx_path.parent) as tmp:
        partial = Path(tmp) / onnx_path.name
        try:
            # The tracer warns about every data-dependent branch of the attention code; the
            # export is checked against sentence-transformers instead (tests/test_onnx_encoder.py).
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    _HiddenStates(), (sample, torch.ones_like(sample), torch.zeros_like(sample)), str(partial),
                    input_names=list(INPUT_NAMES), output_names=[OUTPUT_NAME], dynamic_axes=axes,
                    opset_version=OPSET, dynamo=False,
                )
        except Exception as exc:
            raise EncoderError(f"exporting {str(model_dir)!r} to ONNX failed: {exc}") from exc
        fused = _fuse(partial, network.config)
        partial.replace(onnx_path)
    stamp = {"fingerprint": fingerprint, "model_dir": str(model_dir), "opset": OPSET, "torch": torch.__version__,
             "fused": fused}
    stamp_path(onnx_path).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
    return onnx_path


def _fuse(path: Path, config: Any) -> dict[str, int]:
    """Fuse the BERT graph at ``path`` in place with ONNX Runtime's transformer optimizer; the fused ops counted.

    ``opt_level=0``: only the fusions are written, no graph rewrites tied to this ONNX Runtime
    release, so the Rasa environment's older runtime reads the file too.

    Raises:
        EncoderError: when the optimizer fails or fuses no attention (the graph did not have the
            pattern it knows, and the file would be no faster).
    """
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        model = optimize_model(str(path), model_type="bert", num_heads=int(config.num_attention_heads),
                               hidden_size=int(config.hidden_size), opt_level=0)
        counts = {name: int(n) for name, n in model.get_fused_operator_statistics().items() if n}
        model.save_model_to_file(str(path))
    except Exception as exc:  # the optimizer raises many kinds; name them as ours
        raise EncoderError(f"fusing the exported graph at {str(path)!r} failed: {exc}") from exc
    if not counts.get("Attention"):
        raise EncoderError(f"ONNX Runtime's optimizer fused no attention in {str(path)!r} (fused: {counts})")
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    """Export when missing or stale (``--check``: only say which); the exit code tells."""
    from retrieval.settings import RetrievalSettings

    settings = RetrievalSettings.from_env()
    parser = argparse.ArgumentParser(prog="python -m retrieval.onnx_export", description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=settings.onnx_path, help="where the .onnx file goes")
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is missing or stale")
    args = parser.parse_args(argv)
    try:
        model_dir = settings.model_path or bundled_model_path()
        if is_current(args.output, model_dir):
            return 0
        if args.check:
            print(f"{args.output} is missing or was not exported from {model_dir}", file=sys.stderr)
            return 1
        print(f"exporting {model_dir} to {args.output}", file=sys.stderr)
        export(model_dir, args.output)
    except EncoderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
