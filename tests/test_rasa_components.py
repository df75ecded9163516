"""The NLU components the Rasa environment loads from bot/rasa_components.py.

They run in .venv-rasa (Python 3.10, TensorFlow), so each check is a script run there;
the oracle for the featurizer is sentence-transformers in this environment.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from evaluation.stack import RASA
from retrieval.encoder import SentenceTransformerEncoder
from tests.conftest import ROOT

pytestmark = pytest.mark.model

PYTHON = RASA.parent / "python"

PRELUDE = textwrap.dedent(
    """
    import json, os, sys, tempfile
    from pathlib import Path
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    from rasa.engine.graph import ExecutionContext
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from bot.rasa_components import (
        EmojiWhitespaceTokenizer, SentenceEmbeddingFeaturizer, SentenceIntentClassifier, spelled_out)

    tokenizer = EmojiWhitespaceTokenizer(EmojiWhitespaceTokenizer.get_default_config())
    featurizer = SentenceEmbeddingFeaturizer.create(
        SentenceEmbeddingFeaturizer.get_default_config(), None, None, ExecutionContext(None, "sentence"))
    """
)


def run_in_rasa(script: str) -> str:
    result = subprocess.run([str(PYTHON), "-c", PRELUDE + textwrap.dedent(script)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def featurized(texts: list[str]) -> list[dict[str, Any]]:
    """Each text through the pipeline's tokenizer and featurizer in .venv-rasa.

    Per text: ``tokens`` as ``[text, start, end]``, ``spelled`` (the tokens as the language
    model reads them), the ``sentence`` vector and the ``sequence`` features' shape.
    """
    return json.loads(run_in_rasa(f"""
        messages = [Message.build(text) for text in {texts!r}]
        tokenizer.process(messages)
        featurizer.process(messages)
        rows = []
        for message in messages:
            sequence, sentence = message.get_dense_features("text")
            tokens = message.get("text_tokens")
            rows.append({{"tokens": [[t.text, t.start, t.end] for t in tokens],
                          "spelled": " ".join(spelled_out(t.text) for t in tokens),
                          "sentence": sentence.features[0].tolist(), "sequence": list(sequence.features.shape)}})
        print(json.dumps(rows))
    """))


def token_texts(row: dict[str, Any]) -> list[str]:
    return [text for text, _, _ in row["tokens"]]


def test_sentence_features_are_the_sentence_transformers_embedding() -> None:
    texts = ["i need a grey sofa under $800 for a small flat", "until next time", "👍", "the 2nd one is TOO big!!"]
    out = featurized(texts)
    # The model sees the words Rasa's tokenizer kept ("big!!" is the token "big").
    assert token_texts(out[3]) == ["the", "2nd", "one", "is", "TOO", "big"]
    assert out[2]["spelled"].split() == ["thumbs", "up"]  # the model has no emoji in its vocabulary
    expected = SentenceTransformerEncoder().encode([row["spelled"] for row in out])
    for row, vector, text in zip(out, expected, texts, strict=True):
        got = np.asarray(row["sentence"], dtype=np.float32)
        assert got.shape == (384,)
        assert float(got @ vector) > 0.9999, text  # same model, same pooling, unit length
        assert row["sequence"] == [len(row["tokens"]), 384]  # one vector per token, for entities


def test_the_featurizer_runs_the_exported_network_on_onnx_runtime() -> None:
    # The same file as the action server's query encoder; TensorFlow's BERT is never built.
    out = run_in_rasa("""
        messages = [Message.build("a lamp")]
        featurizer.process(tokenizer.process(messages))
        print(json.dumps([type(featurizer.session).__name__, featurizer.model is None]))
    """)
    assert json.loads(out) == ["InferenceSession", True]


def test_a_missing_onnx_file_is_named_with_the_fix() -> None:
    out = run_in_rasa("""
        config = {**SentenceEmbeddingFeaturizer.get_default_config(), "onnx_model": "/nowhere/model.onnx"}
        try:
            SentenceEmbeddingFeaturizer.create(config, None, None, ExecutionContext(None, "sentence"))
        except FileNotFoundError as exc:
            print(json.dumps(str(exc)))
    """)
    assert "/nowhere/model.onnx" in out and "make setup" in out


def test_emoji_next_to_words_are_tokens_and_read_as_their_meaning() -> None:
    out = featurized(["the second 👎🏼", "the second 👍", "hmm👎", "👍👍", "love it ❤️ thanks", "10'000.00 is fine"])
    tokens = [token_texts(row) for row in out]
    assert tokens[0] == ["the", "second", "👎🏼"] and out[0]["tokens"][2][1:] == [11, 13]
    assert tokens[1] == ["the", "second", "👍"]
    assert tokens[2] == ["hmm", "👎"]
    assert tokens[3] == ["👍👍"]
    assert tokens[4] == ["love", "it", "❤️", "thanks"]
    assert tokens[5] == ["10'000.00", "is", "fine"]  # the tokenizer is otherwise Rasa's
    down, up = (np.asarray(out[i]["sentence"], dtype=np.float32) for i in (0, 1))
    expected_down, expected_up = SentenceTransformerEncoder().encode(["the second thumbs down", "the second thumbs up"])
    assert float(down @ expected_down) > 0.9999 and float(up @ expected_up) > 0.9999
    assert float(down @ up) < 0.99  # 👍 and 👎 are no longer the same vector


def test_intent_classifier_generalises_through_the_sentence_vector() -> None:
    # No word or character n-gram is shared between the training and the test messages of
    # an intent, so only the sentence vector can tell them apart.
    out = json.loads(run_in_rasa("""
        train = {"goodbye": ["bye", "see you later", "i'm off now"],
                 "bigger": ["too small", "it's tiny", "something larger please"],
                 "cheaper": ["too expensive", "costs too much", "lower price please"]}
        tests = {"farewell, take care": "goodbye", "need more space": "bigger", "out of my budget": "cheaper"}
        examples = [Message.build(text, intent) for intent, texts in train.items() for text in texts]
        data = TrainingData(examples)
        tokenizer.process_training_data(data)
        counts = CountVectorsFeaturizer.create(
            CountVectorsFeaturizer.get_default_config(), LocalModelStorage(Path(tempfile.mkdtemp())),
            Resource("counts"), ExecutionContext(None, "counts"))
        counts.train(data)
        counts.process_training_data(data)
        featurizer.process_training_data(data)
        storage = LocalModelStorage(Path(tempfile.mkdtemp()))
        config = SentenceIntentClassifier.get_default_config()
        config["C"] = 10.0
        classifier = SentenceIntentClassifier.create(config, storage, Resource("intents"),
                                                     ExecutionContext(None, "intents"))
        classifier.train(data)
        loaded = SentenceIntentClassifier.load(config, storage, Resource("intents"), ExecutionContext(None, "intents"))
        messages = [Message.build(text) for text in tests]
        tokenizer.process(messages)
        counts.process(messages)
        featurizer.process(messages)
        empty = Message.build("")  # no features at all: no intent, as DIET does, and no error
        messages.append(empty)
        loaded.process(messages)
        result = {m.get("text"): [m.get("intent")["name"], tests.get(m.get("text")),
                                  loaded.clf.get_params()["C"]] for m in messages}
        result["(empty)"] = [empty.get("intent"), empty.get("intent_ranking")]
        print(json.dumps(result))
    """))
    assert out.pop("(empty)") == [{"name": None, "confidence": 0.0}, []]
    out.pop("")
    for text, (predicted, expected, c) in out.items():
        assert predicted == expected, text
        assert c == 10.0  # the configured regularisation survives saving and loading


def test_the_classifier_reads_the_same_row_as_rasas_combined_features() -> None:
    # Two count featurizers (words, characters) and the sentence vector: the row built from the
    # sentence features alone equals the one built from Rasa's combination of every feature.
    out = json.loads(run_in_rasa("""
        import numpy as np
        from scipy.sparse import csr_matrix, hstack
        data = TrainingData([Message.build(t, "x") for t in ["a grey sofa", "not leather!!", "cheaper 👍"]])
        tokenizer.process_training_data(data)
        featurizers = []
        for name, extra in (("words", {}), ("chars", {"analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4})):
            counts = CountVectorsFeaturizer.create(
                {**CountVectorsFeaturizer.get_default_config(), **extra}, LocalModelStorage(Path(tempfile.mkdtemp())),
                Resource(name), ExecutionContext(None, name))
            counts.train(data)
            featurizers.append(counts)
        messages = [Message.build(t) for t in ["a grey sofaa", "not leather!!", "🤷", "cheaper 👍 pls"]]
        tokenizer.process(messages)
        for counts in featurizers:
            counts.process(messages)
        featurizer.process(messages)
        classifier = SentenceIntentClassifier.create(SentenceIntentClassifier.get_default_config(), None, None,
                                                     ExecutionContext(None, "intents"))
        ours = classifier._create_X(messages).toarray()
        rasas = np.vstack([hstack([csr_matrix(m.get_sparse_features("text")[1].features),
                                   csr_matrix(m.get_dense_features("text")[1].features * 20.0)]).toarray()
                           for m in messages])
        print(json.dumps([list(ours.shape), list(rasas.shape), bool(np.array_equal(ours, rasas)),
                          [classifier._width(m) for m in messages]]))
    """))
    shape, expected_shape, equal, widths = out
    assert shape == expected_shape and equal
    assert widths == [shape[1]] * 4


@pytest.mark.parametrize("bad", ["C: 0", "dense_weight: -1", "C: 'strong'"])
def test_bad_classifier_settings_are_named(bad: str) -> None:
    key, value = bad.split(": ")
    out = run_in_rasa(f"""
        try:
            SentenceIntentClassifier.validate_config({{{key!r}: {value}}})
        except ValueError as error:
            print(error)
        else:
            print("accepted")
    """)
    assert out.startswith(f"SentenceIntentClassifier: {key} must be a positive number")


def test_the_trained_model_answers_empty_blank_and_emoji_messages() -> None:
    # The count featurizers describe an empty message while the language model skips it;
    # without zeros in its place DIET failed the turn and the customer got no answer.
    from evaluation.stack import MODEL

    # Loading the model builds DIET's graph by tracing a training step on dummy data: a minute of CPU,
    # four to five minutes of wall time when the two cores are shared, against run_in_rasa's 300 s.
    # Run eagerly, the same weights give the same answers after a tenth of that.
    out = json.loads(run_in_rasa(f"""
        import asyncio
        import tensorflow as tf
        from rasa.core.agent import Agent
        tf.config.run_functions_eagerly(True)
        agent = Agent.load({str(MODEL)!r})
        async def parse():
            return {{t: (await agent.parse_message(t))["intent"]["name"]
                     for t in ["", "   ", "hello there", "👍", "👎", "👎🏽", "the 2nd one 👎"]}}
        print(json.dumps(asyncio.run(parse())))
    """))
    assert out == {"": "nlu_fallback", "   ": "nlu_fallback", "hello there": "greet",
                   # the language model reads both thumbs as one unknown token unless they are spelled out
                   "👍": "like", "👎": "dislike", "👎🏽": "dislike", "the 2nd one 👎": "dislike"}


def test_config_yml_names_the_components_in_the_tree() -> None:
    # What `rasa train` does first: config.yml through Rasa's recipe into a graph whose nodes name
    # their classes. Ours must be the repository's bot/rasa_components.py, not a copy elsewhere.
    script = textwrap.dedent(
        """
        import inspect, json, os
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import rasa.engine.validation
        from rasa.engine.recipes.recipe import Recipe
        from rasa.shared.data import TrainingType
        from rasa.shared.utils.io import read_yaml_file
        config = read_yaml_file("config.yml")
        graph = Recipe.recipe_for_name(config["recipe"]).graph_config_for_recipe(
            config, {}, training_type=TrainingType.BOTH)
        rasa.engine.validation.validate(graph)
        ours = {f"{n.uses.__module__}.{n.uses.__name__}": inspect.getfile(n.uses)
                for n in graph.train_schema.nodes.values() if not n.uses.__module__.startswith("rasa.")}
        print(json.dumps(ours))
        """
    )
    result = subprocess.run([str(PYTHON), "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    ours = json.loads(result.stdout.strip().splitlines()[-1])
    named = {step["name"] for step in yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]}
    assert set(ours) == {name for name in named if "." in name} == {
        "bot.rasa_components.EmojiWhitespaceTokenizer", "bot.rasa_components.SentenceEmbeddingFeaturizer",
        "bot.rasa_components.SentenceIntentClassifier"}
    assert {Path(file).resolve() for file in ours.values()} == {ROOT / "bot" / "rasa_components.py"}
