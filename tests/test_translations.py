"""Every page speaks the complete languages: no message left untranslated, no text left outside
the translation tags.

Three checks, all run by ``make test``:
- the messages the code and templates mark (extracted afresh with Django's ``makemessages``) each
  have a translation, not empty and not fuzzy, in every language of ``COMPLETE_LANGUAGES``;
- the templates hold no visible words outside ``{% translate %}``/``{% blocktranslate %}``: text
  between tags, and the attributes a person reads or hears (``title``, ``alt``, ``placeholder``,
  ``aria-label``), so a page cannot grow an English sentence the first check never sees;
- the Python code shows no bare sentence: what ``messages.*``, ``add_error``, ``send_mail`` and the
  exceptions whose text a page or the API shows (``ValidationError``, ``PermissionDenied``,
  ``NotFound``, the refusals...) are given is a gettext call, never a string or f-string literal.
"""

from __future__ import annotations

import ast
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.template.base import Lexer, TokenType
from django.test import override_settings

from tests.conftest import REPO_DIR

IGNORED_DIRS = [".venv", "node_modules", "var", "tests", "bench", "static/build", "devstack"]


def test_every_marked_message_is_translated_in_every_complete_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # makemessages needs GNU gettext's xgettext (.ci/run installs Debian's gettext when missing).
    assert shutil.which("xgettext"), "Install GNU gettext (apt-get install gettext) to check the translations."
    locale_copy = tmp_path / "locale"
    shutil.copytree(REPO_DIR / "locale", locale_copy)
    # makemessages also writes into a "locale" folder of the directory it runs in: it runs in a
    # tree of links to the project's folders without it, so the check never rewrites the catalogs.
    sources = tmp_path / "sources"
    sources.mkdir()
    for item in REPO_DIR.iterdir():
        if item.name != "locale" and item.name not in IGNORED_DIRS and not item.name.startswith("."):
            (sources / item.name).symlink_to(item)
    monkeypatch.chdir(sources)
    languages = list(settings.COMPLETE_LANGUAGES)
    with override_settings(LOCALE_PATHS=[locale_copy]):
        call_command(
            "makemessages",
            locale=languages,
            ignore_patterns=IGNORED_DIRS,
            no_obsolete=True,
            symlinks=True,
            verbosity=0,
        )
    missing = []
    for language in languages:
        catalog = polib.pofile(str(locale_copy / language / "LC_MESSAGES" / "django.po"))
        for entry in catalog:
            if entry.obsolete:
                continue
            if entry.fuzzy or not entry.translated():
                where = ", ".join(f"{source}:{line}" for source, line in entry.occurrences[:2])
                missing.append(f"{language}: {entry.msgid[:80]!r} ({where})")
    assert not missing, (
        f"{len(missing)} messages lack a translation (run manage.py makemessages and translate them in "
        "locale/<language>/LC_MESSAGES/django.po):\n" + "\n".join(missing[:60])
    )


# Words that read the same in every language: acronyms, formats and names of standards.
_SAME_IN_EVERY_LANGUAGE = re.compile(r"^[\W\d_]*(?:[A-Z0-9][A-Z0-9.\-/+]*|[\W\d_]+)?[\W\d_]*$")
_READ_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description"}
_LETTERS = re.compile(r"[^\W\d_]")


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in _READ_ATTRIBUTES and value:
                self._check(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._check(data)

    def _check(self, text: str) -> None:
        words = [w for w in text.split() if _LETTERS.search(w) and not _SAME_IN_EVERY_LANGUAGE.match(w)]
        if words:
            self.found.append(" ".join(text.split())[:80])


_PLACEHOLDER = "\u2063"  # where a tag or a variable stood: keeps the text around it apart


def untranslated_text(source: str) -> list[str]:
    """The visible words of a template that no translation tag holds."""
    pieces: list[str] = []
    inside_blocktranslate = 0
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            if name in ("blocktranslate", "blocktrans"):
                inside_blocktranslate += 1
            elif name in ("endblocktranslate", "endblocktrans"):
                inside_blocktranslate -= 1
            pieces.append(_PLACEHOLDER)
        elif token.token_type == TokenType.TEXT and not inside_blocktranslate:
            pieces.append(token.contents)
        else:
            pieces.append(_PLACEHOLDER)
    parser = _VisibleText()
    parser.feed("".join(pieces).replace(_PLACEHOLDER, " "))
    parser.close()
    return parser.found


def _templates() -> list[Any]:
    root = REPO_DIR / "templates"
    return [pytest.param(path, id=str(path.relative_to(root))) for path in sorted(root.rglob("*.html"))]


def test_the_check_finds_words_outside_the_translation_tags() -> None:
    assert untranslated_text('<p>{% translate "Datasets" %}</p>') == []
    assert untranslated_text("<p>{% blocktranslate %}By {{ who }}{% endblocktranslate %}</p>") == []
    assert untranslated_text("<p>{{ dataset.name }} · SHA-256 · CSV</p>") == []
    assert untranslated_text("<p>Datasets</p>") == ["Datasets"]
    assert untranslated_text('<input placeholder="Search datasets">') == ["Search datasets"]
    assert untranslated_text("<script>const x = 'words';</script>") == []


@pytest.mark.parametrize("template", _templates())
def test_no_template_shows_words_outside_the_translation_tags(template: Path) -> None:
    found = untranslated_text(template.read_text(encoding="utf-8"))
    assert not found, f"{template.relative_to(REPO_DIR)} shows words no translation holds: {found[:10]}"


# --- Python: the messages a person reads go through gettext ---------------------------------------

PYTHON_PACKAGES = ["marketplace", "licensing", "provenance", "config"]
_MESSAGE_LEVELS = {"debug", "info", "success", "warning", "error"}
# Exceptions whose text a page or an API answer shows (``config.api_errors`` passes it on as the
# ``message``). Reasons kept for logs or for rows a worker writes (a re-release's error, a 404's
# internal reason that the 404 page never shows) are not among them.
_SHOWN_EXCEPTIONS = {
    "ValidationError", "PermissionDenied", "ObjectDoesNotExist", "DoesNotExist", "NotFound", "ParseError",
    "NotAuthenticated", "AuthenticationFailed", "Conflict", "Gone", "NotReady", "SubmissionConflict",
    "SubmissionGone", "UploadGone", "CatalogQueryError", "PredicateError", "ApiKeyRefused", "AddressRefused",
    "MoveRefused", "TransferInvalid",
}  # fmt: skip


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else ""


def _bare_text(node: ast.expr) -> bool:
    """A sentence no translation holds: a string literal (or f-string, or a sum or ``.format`` of
    them) with letters outside its placeholders, instead of a gettext call."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(_LETTERS.search(re.sub(r"[\W\d_]", "", node.value)))
    if isinstance(node, ast.JoinedStr):
        return any(_bare_text(part) for part in node.values if isinstance(part, ast.Constant))
    if isinstance(node, ast.BinOp):
        return _bare_text(node.left) or _bare_text(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _bare_text(node.func.value)
    return False


def _shown_texts(call: ast.Call) -> list[ast.expr]:
    """The arguments of ``call`` that a person reads, when it is one that shows a message."""
    name = _name(call.func)
    keywords = {keyword.arg: keyword.value for keyword in call.keywords}
    if name in _MESSAGE_LEVELS and isinstance(call.func, ast.Attribute) and _name(call.func.value) == "messages":
        return call.args[1:2] + [keywords[k] for k in ("message",) if k in keywords]
    if name == "add_error":
        return call.args[1:2] + [keywords[k] for k in ("error",) if k in keywords]
    if name == "_error" and len(call.args) == 3:  # the API error helpers: _error(status, code, message)
        return call.args[2:3]
    if name == "send_mail":
        return call.args[:2] + [keywords[k] for k in ("subject", "message") if k in keywords]
    if name in _SHOWN_EXCEPTIONS:
        texts = call.args[:1] + [keywords[k] for k in ("message", "detail") if k in keywords]
        # ValidationError({"field": "text"}): each field's text
        return [v for t in texts for v in (t.values if isinstance(t, ast.Dict) else [t]) if v is not None]
    return []


def unmarked_messages(source: str) -> list[str]:
    """Where the code shows a person a sentence that is not marked for translation."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            for text in _shown_texts(node):
                if _bare_text(text):
                    found.append(f"line {node.lineno}: {ast.unparse(text)[:80]}")
    return found


def test_the_check_finds_python_messages_left_unmarked() -> None:
    assert unmarked_messages('messages.success(request, _("Saved."))') == []
    assert unmarked_messages('raise ValidationError(_("No %(x)s.") % {"x": x})') == []
    assert unmarked_messages('send_mail(f"[{settings.SITE_NAME}] {title}", body, None, [to])') == []
    assert unmarked_messages("raise ValidationError(exc.messages)") == []
    assert unmarked_messages('messages.success(request, "Saved.")') == ["line 1: 'Saved.'"]
    assert unmarked_messages('messages.error(request, f"{name} is gone.")') == ["line 1: f'{name} is gone.'"]
    assert unmarked_messages('raise forms.ValidationError("Too long.")') == ["line 1: 'Too long.'"]
    assert unmarked_messages('raise ValidationError({"email": f"{e} is taken."})') == ["line 1: f'{e} is taken.'"]
    assert unmarked_messages('raise PermissionDenied("Only " + who)') == ["line 1: 'Only ' + who"]
    assert unmarked_messages('form.add_error("email", "Taken.")') == ["line 1: 'Taken.'"]
    assert unmarked_messages('send_mail(subject="Hello", message=body, from_email=None, recipient_list=[to])') == [
        "line 1: 'Hello'"
    ]
    assert unmarked_messages('return _error(404, "not_found", f"No peer {n}.")') == ["line 1: f'No peer {n}.'"]
    assert unmarked_messages('raise exceptions.NotFound("No invoice {}.".format(n))') == [
        "line 1: 'No invoice {}.'.format(n)"
    ]


def _python_modules() -> list[Any]:
    paths = []
    for package in PYTHON_PACKAGES:
        paths += [p for p in sorted((REPO_DIR / package).rglob("*.py")) if "migrations" not in p.parts]
    return [pytest.param(path, id=str(path.relative_to(REPO_DIR))) for path in paths]


@pytest.mark.parametrize("module", _python_modules())
def test_no_python_message_is_left_unmarked(module: Path) -> None:
    found = unmarked_messages(module.read_text(encoding="utf-8"))
    assert not found, (
        f"{module.relative_to(REPO_DIR)} shows sentences no translation holds (wrap them in gettext or "
        f"gettext_lazy, with %(name)s placeholders): {found[:10]}"
    )
