"""The Jinja2 environments of the report and the notices, and their filters.

Every value that comes from an input file is untrusted text. The HTML environment escapes
every ``{{ }}`` (``autoescape=True``); the Markdown environment escapes every ``{{ }}`` for
Markdown through ``finalize`` (backslash before Markdown punctuation, ``<``, ``>`` and
``&`` as entities, a line break as a space), so that neither a browser nor a Markdown
renderer runs or formats a value. Only text marked safe by this package (the charts'
SVG, the page's own script) is written as it is.

Needs the optional extra ``report`` (Jinja2, matplotlib): :func:`require` says so.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from typing import TYPE_CHECKING, Any, Final

from ice_recon.errors import MissingExtraError

if TYPE_CHECKING:
    import jinja2

__all__ = ["html_env", "markdown_env", "md", "require", "thousands"]

_EXTRA: Final = "report"
_MODULES: Final = ("jinja2", "matplotlib")


def require(command: str = "the report") -> None:
    """Import the extra's libraries or raise :class:`MissingExtraError` naming the extra."""
    for name in _MODULES:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise MissingExtraError(
                f"{command} needs the optional extra '{_EXTRA}' ({name} is not installed): "
                f"pip install 'ice-recon[{_EXTRA}]'",
                name=name,
            ) from exc


def thousands(text: str) -> str:
    """Group the digits of a 2-place amount by thousands, exactly (text in, text out).

    >>> thousands("1245000.00"), thousands("-41.13"), thousands("")
    ('1,245,000.00', '-41.13', '')
    """
    if not text:
        return text
    sign = "-" if text.startswith("-") else ""
    whole, _, fraction = text.lstrip("-").partition(".")
    grouped = f"{int(whole):,}" if whole.isdigit() else whole
    return sign + grouped + ("." + fraction if fraction else "")


#: Markdown punctuation that can format or link text anywhere in a line (``.``, ``-`` and
#: ``+`` only matter at the start of a line, where a template never puts a value).
_MD_SPECIAL: Final = re.compile(r"([\\`*_{}\[\]#!|~])")


def md(value: object) -> str:
    r"""Escape *value* for Markdown: shown as written, never formatted or run as HTML.

    >>> print(md("<script>*x*</script> | a_b [c](d) -1.50"))
    &lt;script&gt;\*x\*&lt;/script&gt; \| a\_b \[c\](d) -1.50
    """
    text = "" if value is None else str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", text)


class Raw(str):
    """Markdown written by this package's template itself: not escaped again."""

    __slots__ = ()


def _finalize_md(value: object) -> object:
    if isinstance(value, Raw):
        return value
    return md(value)


def _environment(*, markdown: bool) -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ice_recon", "templates"),
        autoescape=not markdown,
        finalize=_finalize_md if markdown else None,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["thousands"] = thousands
    env.filters["raw"] = Raw
    return env


_ENVS: dict[bool, Any] = {}


def html_env() -> jinja2.Environment:
    """Return the autoescaping HTML environment (made once)."""
    env = _ENVS.get(False)
    if env is None:
        env = _ENVS[False] = _environment(markdown=False)
    result: jinja2.Environment = env
    return result


def markdown_env() -> jinja2.Environment:
    """Return the Markdown environment, which escapes every value it writes (made once)."""
    env = _ENVS.get(True)
    if env is None:
        env = _ENVS[True] = _environment(markdown=True)
    result: jinja2.Environment = env
    return result


def script_hash(script: str) -> str:
    """Return the CSP source (``'sha256-…'``) that allows exactly this inline script."""
    import base64

    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"
