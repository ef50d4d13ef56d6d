"""Small text helpers: @mentions, code extraction, secret redaction, clipping."""

from __future__ import annotations

import pytest

from jupyter_revive.prompts import extract_code, extract_mentions, is_secret_name, redact
from jupyter_revive.prompts.clip import clip


@pytest.mark.parametrize(
    ("prompt", "names"),
    [
        ("plot @df against @model", ["df", "model"]),
        ("compare @df.price with @df", ["df"]),
        ("mail me@example.com about @report", ["report"]),
        ("@first at the start, @_tmp and @x1", ["first", "_tmp", "x1"]),
        ("no mentions here", []),
        ("skip @api_key and @github_token but keep @tokens_df? no: @keys", []),
        ("@@double", []),
    ],
)
def test_extract_mentions(prompt, names):
    assert extract_mentions(prompt) == names


def test_mentions_are_capped():
    assert len(extract_mentions(" ".join(f"@v{i}" for i in range(100)))) == 10


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        ("Sure:\n```python\nx = 1\nprint(x)\n```\nDone.", "x = 1\nprint(x)"),
        ("```\nplain = True\n```", "plain = True"),
        ("```py\na = 1\n```\n```python\nb = 2\n```", "a = 1"),
        ("```bash\nls\n```\n```python\nz = 1\n```", "z = 1"),
        ("```python\nfor i in range(3):\n    print(i", "for i in range(3):\n    print(i"),
        ("x = 3", "x = 3"),
        ('```python\ns = """\n```inner\n"""\n```', 's = """\n```inner\n"""'),
        ("  ```python\n  indented = 1\n  ```", "  indented = 1"),
    ],
)
def test_extract_code(reply, code):
    assert extract_code(reply) == code


@pytest.mark.parametrize(
    "name", ["api_key", "API_KEY", "hf_token", "password", "db_passwd", "client_secret", "authz"]
)
def test_secret_names(name):
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["df", "author", "authors_df", "model", "predictions"])
def test_ordinary_names(name):
    assert not is_secret_name(name)


@pytest.mark.parametrize(
    "secret",
    [
        "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123",
        "sk-proj-AbCdEfGhIjKlMnOpQrStUvWx",
        "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "AKIAABCDEFGHIJKLMNOP",
        "xoxb-1234567890-abcdefghij",
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYz",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
    ],
)
def test_key_shaped_values_are_redacted_anywhere(secret):
    text = redact(f"value: {secret} and more")
    assert secret not in text and "<redacted>" in text and text.endswith("and more")


@pytest.mark.parametrize(
    ("code", "kept"),
    [
        ('api_key = "whatever-it-is"', "api_key = "),
        ('{"password": "hunter22"}', '{"password": '),
        ('os.environ["HF_TOKEN"] = "abc123"', 'os.environ["HF_TOKEN"] = '),
    ],
)
def test_literals_assigned_to_secret_names_are_redacted(code, kept):
    text = redact(code)
    assert text.startswith(kept) and "<redacted>" in text


@pytest.mark.parametrize(
    "code",
    ["KeyError: 'region'", 'df.sort_values(key="x")', 'tokenizer_name = "bert"', "x = 'sk-'"],
)
def test_everyday_code_is_left_alone(code):
    assert redact(code) == code


def test_extra_secrets_are_redacted_verbatim():
    assert redact("the key is plain-key-123456", extra=["plain-key-123456"]) == (
        "the key is <redacted>"
    )


@pytest.mark.parametrize("limit", [0, 5, 20, 64, 200, 4_999])
def test_clip_never_exceeds_its_limit(limit):
    assert len(clip("x" * 5_000, limit)) <= limit
    assert len(clip("x" * 5_000, limit, tail=False)) <= limit
