"""The kit's shared field rules: text a person writes, UTC times, query-string flags, and
a JSON body's depth and NUL characters."""
import pytest
from marshmallow import Schema, ValidationError

from plumbing.errors import BadRequest
from plumbing.validation import (
    MAX_JSON_DEPTH,
    QueryFlag,
    StrictBoolean,
    Text,
    UtcDateTime,
    check_json_tree,
    is_clean_text,
)

REFUSED_EVERYWHERE = ["\x00", "\x07", "\x1b[31m", "\x7f", "\x85", "\x9f",
                      "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
                      "\u2066", "\u2067", "\u2068", "\u2069"]
LINE_BREAKS = ["\n", "\r", "\t", "\u2028", "\u2029"]


@pytest.mark.parametrize("char", REFUSED_EVERYWHERE)
def test_control_and_bidi_override_characters_are_refused_in_any_text(char):
    assert not is_clean_text(f"好评{char}", multiline=False)
    assert not is_clean_text(f"好评{char}", multiline=True)


@pytest.mark.parametrize("char", LINE_BREAKS)
def test_line_breaks_only_in_multi_line_text(char):
    assert not is_clean_text(f"第一行{char}第二行")
    assert is_clean_text(f"第一行{char}第二行", multiline=True)


@pytest.mark.parametrize("text", ["赣南脐橙 10斤装", "Tee (M) – 100% cotton", "👨‍👩‍👧 一家人",
                                  "مرحبا", "emoji️ variation", "小明 🍊"])
def test_ordinary_text_of_any_script_passes(text):
    assert is_clean_text(text) and is_clean_text(text, multiline=True)


class Note(Schema):
    title = Text()
    body = Text(multiline=True)


def test_text_is_trimmed_and_checked_by_field():
    assert Note().load({"title": "  苹果 ", "body": " 很甜\n下次再买 "}) == {
        "title": "苹果", "body": "很甜\n下次再买"}
    with pytest.raises(ValidationError) as raised:
        Note().load({"title": "exe.\u202egpj", "body": "ok\x00"})
    assert set(raised.value.messages) == {"title", "body"}


class Window(Schema):
    starts_at = UtcDateTime()


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_a_time_whose_utc_form_overflows_is_refused_not_a_crash(value):
    with pytest.raises(ValidationError) as raised:
        Window().load({"starts_at": value})
    assert list(raised.value.messages) == ["starts_at"]


def test_times_are_turned_to_utc():
    loaded = Window().load({"starts_at": "9999-12-31T22:59:59-01:00"})["starts_at"]
    assert loaded.isoformat() == "9999-12-31T23:59:59+00:00"
    with pytest.raises(ValidationError):
        Window().load({"starts_at": "2030-01-01T00:00:00"})  # no zone: ambiguous


class Flags(Schema):
    query = QueryFlag()
    body = StrictBoolean()


@pytest.mark.parametrize("field, value", [
    ("query", "1"), ("query", "0"), ("query", "yes"), ("query", "True"), ("query", "on"),
    ("query", ""), ("body", 1), ("body", 0), ("body", "yes"), ("body", "true"), ("body", None),
])
def test_booleans_are_only_true_or_false(field, value):
    with pytest.raises(ValidationError):
        Flags().load({field: value})


def test_true_and_false_pass():
    assert Flags().load({"query": "true", "body": False}) == {"query": True, "body": False}
    assert Flags().load({"query": "false", "body": True}) == {"query": False, "body": True}


def nested(depth):
    """`depth` objects and arrays, one in the other, a string inside."""
    data = "leaf"
    for level in range(depth):
        data = {"a": data} if level % 2 else [data]
    return data


def test_a_body_nested_past_the_limit_is_invalid_json_however_deep():
    check_json_tree(nested(MAX_JSON_DEPTH))
    for depth in (MAX_JSON_DEPTH + 1, 100_000):  # walked without recursion
        with pytest.raises(BadRequest) as raised:
            check_json_tree(nested(depth))
        assert raised.value.code == "invalid_json"


@pytest.mark.parametrize("body, where", [
    ({"title": "a\x00b"}, "title"), ({"skus": [{"spec": "\x00"}]}, "skus.0.spec"),
    ({"a\x00": 1}, "a\x00"), ({"tags": ["ok", "\x00"]}, "tags.1"),
])
def test_nul_anywhere_in_a_body_is_refused_and_located(body, where):
    with pytest.raises(BadRequest) as raised:
        check_json_tree(body)
    assert raised.value.code == "nul_character" and list(raised.value.details) == [where]
