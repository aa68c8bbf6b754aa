import csv
import io
import json
import random

import pytest
import torch

from rnnbench.data import names
from rnnbench.data.csvfile import Table, read_table
from rnnbench.data.text import read_alike, split_numbers
from rnnbench.data.tokenizer import Tokenizer, char_tokens, word_tokens
from rnnbench.data.vocab import PAD, UNK, Vocab
from rnnbench.errors import RnnbenchError


@pytest.fixture
def write(tmp_path):
    """Write bytes (or text, as UTF-8, newlines untouched) to a file in tmp_path and return its path."""

    def write(content, name: str = "reviews.csv"):
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return path

    return write


def fails(path, *args, target="class", text_column="text", target_column="label") -> str:
    """The one-line message read_table raises for the file at `path`."""
    with pytest.raises(RnnbenchError) as caught:
        read_table(path, text_column, target_column, target, *args)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: "), message
    return message


# --- reading -----------------------------------------------------------------------------------------------------


def test_comma_file_with_quotes_commas_and_cleaning(write):
    path = write(
        'id,text,label\n1,"Great, loved it",pos\n2,"She said ""no""",neg\n3,  Caf\u0065\u0301  au   lait ,pos\n'
    )
    table = read_table(path, "text", "label", "class")
    assert table.texts == ["Great, loved it", 'She said "no"', "Café au lait"]  # NFC, whitespace collapsed
    assert table.targets == ["pos", "neg", "pos"]
    assert table.line_numbers == [2, 3, 4]
    assert table.rows == 3 and table.path == path
    assert len(table.sha256) == 64 and isinstance(table, Table)


def test_tab_file_bom_crlf_and_na_like_texts(write):
    path = write(b"\xef\xbb\xbftext\tscore\r\nNA\t1.5\r\nnull\t-2\r\na, b\t1e3\r\n")
    table = read_table(path, "text", "score", "number")
    assert table.texts == ["NA", "null", "a, b"]  # NA-like strings stay text; a comma in a tab file is text
    assert table.targets == [1.5, -2.0, 1000.0]
    assert table.line_numbers == [2, 3, 4]


def test_line_numbers_after_multiline_quoted_fields_and_blank_lines(write):
    content = 'text,label\n"one\ntwo\nthree",a\n\nplain,b\r\n"x\r\ny","multi\nline label"\n   \nlast,c'
    table = read_table(write(content), "text", "label", "class")
    assert table.texts == ["one two three", "plain", "x y", "last"]
    assert table.targets == ["a", "b", "multi\nline label", "c"]
    assert table.line_numbers == [2, 6, 7, 11]  # blank and whitespace-only lines 5 and 10 are skipped
    # the same numbers when the line breaks are inside a column that is not read
    other = write('note,text,label\n"a\n\nb",x,p\nc,y,q\n', "other.csv")
    assert read_table(other, "text", "label", "class").line_numbers == [2, 5]


def test_errors_for_missing_paths_and_empty_files(write, tmp_path):
    assert fails(tmp_path / "absent.csv").endswith("no such file")
    assert "is a directory" in fails(tmp_path)
    assert "no data rows" in fails(write(b"", "empty.csv"))
    assert "no data rows" in fails(write("\n\n", "blank.csv"))
    assert "no data rows, only a header line" in fails(write("text,label\n", "header.csv"))
    assert "no data rows" in fails(write("text,label\n\n  \n", "header_blank.csv"))


def test_error_for_bytes_that_are_not_utf8(write):
    message = fails(write(b"text,label\nok,a\nCaf\xe9,b\n"))
    assert "line 3" in message and "not UTF-8" in message and "byte offset 19" in message


def test_errors_for_malformed_csv_name_the_physical_line(write):
    message = fails(write('text,label\n"a\nb",x\nc,d,e\n'))
    assert "line 4:" in message and "3 fields where the header has 2" in message
    message = fails(write('text,label\nok,a\n\n"never closed,b\nmore,c\n', "open.csv"))
    assert "line 4:" in message and "no closing double quote" in message
    assert "line 2:" in fails(write("text,label\na,b,c\n", "first.csv"))  # not read as an index column


def test_errors_for_missing_columns_list_the_file_columns(write):
    message = fails(write("review,label\na,b\n"))
    assert "no column 'text'" in message and "'review', 'label'" in message
    message = fails(write("text;label\na;b\n", "semicolon.csv"))
    assert "no column 'text' or 'label'" in message and "commas or tabs" in message
    assert "header names column 'text' 2 times" in fails(write("text,text,label\na,b,c\n", "twice.csv"))


def test_errors_for_empty_texts_and_targets(write):
    message = fails(write('text,label\nfine,a\n"a\nb",b\n"  ",a\n , b\n'))
    assert message.endswith("line 5, column 'text': the text is empty (1 more like it)")
    message = fails(write("text,label\nfine,a\nalso fine,\n", "no_label.csv"))
    assert "line 3, column 'label': the target is empty" in message
    message = fails(write("text,label\nfine,a\nshort row\n", "short.csv"))  # refused, not padded with ''
    assert "line 3: 1 field where the header has 2; give every row a field" in message


def test_errors_for_number_targets(write):
    assert fails(write("text,y\na,1\nb,abc\nc,x\n"), target="number", target_column="y").endswith(
        "line 3, column 'y': 'abc' is not a number (target: number) (1 more like it)"
    )
    for bad in ("nan", "inf", "-Infinity", "1e999"):
        message = fails(write(f"text,y\na,1\nb,{bad}\n", f"{bad}.csv"), target="number", target_column="y")
        assert f"line 3, column 'y': '{bad}' is not a finite number" in message


def test_error_for_a_single_class(write):
    message = fails(write("text,label\na,pos\nb, pos \n"))
    assert "column 'label': every row has the class 'pos'" in message


def test_class_targets_are_stripped_strings(write):
    table = read_table(write("text,label\na, 1 \nb,2\n"), "text", "label", "class")
    assert table.targets == ["1", "2"]


# --- splitting a regression -----------------------------------------------------------------------------------------


def many(n=200):
    texts = [f"text {i}" for i in range(n)]
    return texts, [float(i % 7) for i in range(n)]


def test_split_numbers_no_text_in_two_splits_and_seeded():
    texts, values = many()
    splits = split_numbers(texts, values, seed=0, validation_fraction=0.1, test_fraction=0.2)
    sets = [{text for text, _ in split} for split in (splits.train, splits.validation, splits.test)]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert splits.report["sizes"] == {"train": 140, "validation": 20, "test": 40}
    assert all(v == 0 for v in splits.report["overlap"].values())
    again = split_numbers(texts, values, seed=0, validation_fraction=0.1, test_fraction=0.2)
    other = split_numbers(texts, values, seed=1, validation_fraction=0.1, test_fraction=0.2)
    assert again == splits and other.test != splits.test
    assert set(splits.train) | set(splits.validation) | set(splits.test) == set(zip(texts, values))


def test_split_numbers_duplicates_and_conflicts():
    texts, values = many()
    texts += ["text 1", "text 1", "text 2", "text 3"]  # a duplicate twice, then two conflicting texts
    values += [1.0, 1.0, 99.0, -1.0]
    dropped = split_numbers(texts, values, seed=0, validation_fraction=0.1, test_fraction=0.1)
    report = dropped.report
    assert (report["rows"], report["distinct"], report["duplicates_removed"]) == (204, 200, 2)
    assert report["conflicting_texts"] == 2 and report["conflicts_policy"] == "drop"
    assert report["conflict_examples"] == [["text 2", [2.0, 99.0]], ["text 3", [3.0, -1.0]]]
    every = [example for split in (dropped.train, dropped.validation, dropped.test) for example in split]
    assert len(every) == 198 and not {"text 2", "text 3"} & {text for text, _ in every}

    kept = split_numbers(texts, values, seed=0, validation_fraction=0.1, test_fraction=0.1, conflicts="keep")
    splits = (kept.train, kept.validation, kept.test)
    assert sum(map(len, splits)) == 200 + 2
    holding = [i for i, split in enumerate(splits) if ("text 2", 2.0) in split]
    assert holding and ("text 2", 99.0) in splits[holding[0]]  # both values in the same split
    assert all(v == 0 for k, v in kept.report["overlap"].items())


def test_split_numbers_refuses_empty_splits():
    with pytest.raises(RnnbenchError, match="test split would be empty"):
        split_numbers(["a", "b", "c"], [1, 2, 3], seed=0, validation_fraction=0.0, test_fraction=0.1)
    splits = split_numbers(["a", "b", "c"], [1, 2, 3], seed=0, validation_fraction=0.0, test_fraction=0.4)
    assert splits.validation == [] and len(splits.test) == 1


# --- tokenizers ---------------------------------------------------------------------------------------------------


def test_token_functions_known_answers():
    assert char_tokens("Abé") == ["A", "b", "é"]
    assert word_tokens("Don't stop, ME now!") == ["don't", "stop", "me", "now"]
    assert word_tokens("a-b_c\td\n(e) 'f'  G") == ["a", "b", "c", "d", "e", "'f'", "g"]  # Keras' default filters
    assert word_tokens("!!!") == []


def test_fit_orders_by_count_then_first_appearance_and_counts_pad_and_unk():
    texts = ["the cat sat", "The dog sat", "a cat"]  # the 2, cat 2, sat 2, dog 1, a 1
    tokenizer = Tokenizer.fit(texts, "word", None, None, "pre")
    assert tokenizer.tokens == ("the", "cat", "sat", "dog", "a") and tokenizer.size == 7
    assert Tokenizer.fit(texts, "word", 4, None, "pre").tokens == ("the", "cat")  # 4 ids: PAD, UNK, the, cat
    assert Tokenizer.fit(["abb", "cc", "d"], "char", 4, None, "pre").tokens == ("b", "c")  # ties: first seen
    assert Tokenizer.fit(["ba", "c"], "char", 10, None, "pre").tokens == ("b", "a", "c")
    with pytest.raises(RnnbenchError, match="at least 3"):
        Tokenizer.fit(texts, "word", 2, None, "pre")


def test_char_tokenizer_without_limit_equals_vocab():
    texts = ["Müller", "O'Neal", "Łukasz", "zoë"]
    tokenizer = Tokenizer.fit(texts, "char", None, None, "pre")
    vocab = Vocab.from_texts(texts)
    assert tokenizer.tokens == vocab.chars and tokenizer.size == vocab.size
    new = ["Zoë", "Neal", "Ωmega", "M"]
    for ours, theirs in zip(tokenizer.encode(new), vocab.encode(new)):
        assert torch.equal(ours, theirs)


def test_encode_pads_truncates_and_marks_unknown():
    char = Tokenizer("char", ("a", "b"), None, "pre")
    ids, lengths = char.encode(["ab", "b", "z"])
    assert ids.tolist() == [[2, 3], [3, PAD], [UNK, PAD]] and lengths.tolist() == [2, 1, 1]
    assert ids.dtype == lengths.dtype == torch.long
    pre = Tokenizer("char", ("a", "b"), 2, "pre").encode(["abab", "b", "zab"])
    post = Tokenizer("char", ("a", "b"), 2, "post").encode(["abab", "b", "zab"])
    assert pre[0].tolist() == [[2, 3], [3, 0], [2, 3]] and pre[1].tolist() == [2, 1, 2]
    assert post[0].tolist() == [[2, 3], [3, 0], [1, 2]] and post[1].tolist() == [2, 1, 2]
    assert char.unknown("abzaz!") == ["z", "!"]


def test_word_encode_with_empty_texts_and_chunks():
    word = Tokenizer("word", ("the", "cat"), None, "post")
    ids, lengths = word.encode(["The cat!", "!!!", "a cat", ""])
    assert ids.tolist() == [[2, 3], [UNK, 0], [UNK, 3], [UNK, 0]]  # a text with no token is one UNK, length 1
    assert lengths.tolist() == [2, 1, 2, 1]
    assert word.unknown("The dog, the DOG and a cat") == ["dog", "and", "a"]
    assert word.encode([])[0].shape == (0, 0)
    # a text holding NUL, the usual marker between joined texts, is still split alone
    assert word.encode(["cat\x00the"])[0].tolist() == [[UNK]]
    assert Tokenizer("word", ("cat\x00the",), None, "post").encode(["cat\x00the cat"])[0].tolist() == [[2, UNK]]


def test_encode_across_chunks_matches_one_by_one(monkeypatch):
    from rnnbench.data import tokenizer as module

    monkeypatch.setattr(module, "_CHUNK", 3)
    texts = ["a b c d", "", "b", "c c c c c c", "!!", "d a", "a"]
    for kind in ("char", "word"):
        tokenizer = Tokenizer.fit(texts, kind, None, 3, "pre")
        ids, lengths = tokenizer.encode(texts)
        for i, one in enumerate(texts):
            single, length = tokenizer.encode([one])
            assert lengths[i] == length[0]
            assert ids[i, : length[0]].tolist() == single[0, : length[0]].tolist()
            assert ids[i, length[0] :].eq(PAD).all()


def test_to_dict_round_trip():
    tokenizer = Tokenizer.fit(["b a", "a c"], "word", None, 5, "post")
    saved = json.loads(json.dumps(tokenizer.to_dict()))
    assert Tokenizer.from_dict(saved) == tokenizer
    assert Tokenizer.from_dict(saved).encode(["a c"])[0].tolist() == tokenizer.encode(["a c"])[0].tolist()
    with pytest.raises(RnnbenchError, match="tokenizer"):
        Tokenizer.from_dict({**saved, "extra": 1})
    with pytest.raises(RnnbenchError, match="truncate"):
        Tokenizer.from_dict({**saved, "truncate": "middle"})


def test_classification_splits_reuse_names_build_splits(write):
    rows = "".join(f"review number {i},{'pos' if i % 2 else 'neg'}\n" for i in range(40))
    table = read_table(write("text,label\n" + rows), "text", "label", "class")
    by_label = {}
    for text, label in zip(table.texts, table.targets):
        by_label.setdefault(label, []).append(text)
    splits = names.build_splits(by_label, seed=0)
    assert sum(len(s) for s in (splits.train, splits.validation, splits.test)) == 40
    assert splits.labels == ("neg", "pos") and splits.report["overlap"]["train_test"] == 0


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_line_numbers_agree_with_the_csv_module_on_a_random_file(write, line_end):
    """Random texts with commas, quotes, both kinds of line breaks and blank lines between rows, written by
    csv.writer; the standard csv reader's line count is the reference."""
    rng = random.Random(0)
    pieces = ["word", "b c", ",", '"', "\n", "\r\n", "é", "  "]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=line_end)
    writer.writerow(["text", "label"])
    for _ in range(300):
        writer.writerow(["x" + "".join(rng.choices(pieces, k=rng.randint(0, 6))), rng.choice(["p", "q,r"])])
        if rng.random() < 0.1:
            out.write(line_end)
    path = write(out.getvalue())

    expected_lines, expected_texts, line = [], [], 1
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.reader(file)
        next(reader)
        for record in reader:
            if record:
                expected_lines.append(line + 1)
                expected_texts.append(names.clean(record[0]))
            line = reader.line_num
    table = read_table(path, "text", "label", "class")
    assert table.line_numbers == expected_lines and table.texts == expected_texts


def test_the_split_check_is_said_from_the_counts():
    clean = {"train_validation": 0, "train_test": 0, "validation_test": 0}
    assert names.describe_overlap({"split": "by_name", "overlap": clean}, "text").startswith("no text is in two splits")
    shared = {"split": "by_name", "overlap": clean | {"train_test": 2}}
    said = names.describe_overlap(shared, "text")
    assert said.startswith("texts in two splits (checked: train ∩ validation 0, train ∩ test 2")
    alike = {"overlap": clean | {"test_read_as_training": 1, "validation_read_as_training": 0}}  # a regression report
    said = names.describe_overlap(alike, "text")
    assert "; but once tokenized, 1 test and 0 validation texts read exactly as a training text does" in said


def test_texts_the_tokenizer_makes_one_input_are_counted_across_splits(tmp_path):
    """A split by distinct text keeps 'Good movie!' apart from 'good movie'; word tokens read both as [good, movie]."""
    import rnnbench.tasks.text as task

    train = [("good movie", 1.0), ("bad plot", -1.0), ("fine", 0.1), ("okay", 0.0), ("dull", -0.5), (":(", -2.0)]
    test = [("Good movie!", 1.5), ("dine", 0.3), (":-(", -2.1)]  # ':-(' has no word at all: left out
    splits = split_numbers(*zip(*train), seed=0, validation_fraction=0, test_fraction=0.2, test=test)
    words = Tokenizer.fit([text for text, _ in splits.train], "word", None, None, "pre")
    assert read_alike(splits, words) == {"validation_read_as_training": 0, "test_read_as_training": 1}
    chars = Tokenizer.fit([text for text, _ in splits.train], "char", None, 2, "pre")  # the last 2 characters
    assert read_alike(splits, chars)["test_read_as_training"] == 1  # 'dine' cut to 'ne', as 'fine' is
    (tmp_path / "train.csv").write_text("text,label\n" + "".join(f'"{t}",{v}\n' for t, v in train))
    (tmp_path / "test.csv").write_text("text,label\n" + "".join(f'"{t}",{v}\n' for t, v in test))
    data = task.Data(
        dataset="csv",
        path=str(tmp_path / "train.csv"),
        test_path=str(tmp_path / "test.csv"),
        target="number",
        tokenizer="word",
        validation_fraction=0,
    )
    prepared = task.prepare(data, task.load(data, None)[0], 0, torch.device("cpu"))
    assert prepared.report["overlap"]["test_read_as_training"] == 1
    said = task.data_table(prepared.report, "data").notes  # under the data table, once: not on every seed's line
    assert any("1 test and 0 validation texts read exactly as a training text does" in note for note in said)
    assert "read exactly as" not in task.describe(prepared.sizes, prepared.report)
