"""Secret environment values: passed to the container, masked everywhere the tool writes.

A variable is secret when its name says so (a word part such as ``KEY``, ``SECRET``,
``TOKEN`` or ``PASSWORD``: see :func:`looks_secret`) or when it is named by the spec's
``secret_env`` (``--secret-env NAME``). Its value reaches the container's environment
only; results, saved specs, job config files, logs and reports carry ``***`` instead,
and any exact occurrence of a secret value of at least
:data:`MIN_SCRUBBED_VALUE_CHARS` characters in stored text (stderr tail, exit message,
logs) is replaced by ``***`` too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sandbox.contract.spec import ScriptSpec
from sandbox.results.models import TestResult

__all__ = ["MASK", "MIN_SCRUBBED_VALUE_CHARS", "Masker", "looks_secret"]

MASK = "***"
MIN_SCRUBBED_VALUE_CHARS = 4
"""Shorter values are masked where they are named, but not searched for in text: a
value like ``1`` or ``on`` would mask every unrelated occurrence."""

_SECRET_WORDS = frozenset(
    {
        "AUTH",
        "COOKIE",
        "CREDENTIAL",
        "CREDENTIALS",
        "CREDS",
        "KEY",
        "PASS",
        "PASSPHRASE",
        "PASSWD",
        "PASSWORD",
        "PASSWORDS",
        "PRIVATE",
        "SECRET",
        "SECRETS",
        "SESSION",
        "TOKEN",
    }
)
"""Whole word parts of a name that make it secret: ``AWS_ACCESS_KEY_ID``, ``DB_PASS``."""
_SECRET_ENDINGS = ("SECRET", "TOKEN", "PASSWORD", "PASSWD", "APIKEY", "ACCESSKEY", "PRIVATEKEY")
"""Endings that make a run-together word part secret: ``GITHUBTOKEN``, ``DBPASSWORD``
(but ``KEYBOARD``, ``MONKEY`` and ``TOKENIZER`` are not)."""
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_LETTERS = re.compile(r"[^A-Za-z]+")

_Json = TypeVar("_Json")


def looks_secret(name: str) -> bool:
    """Whether a variable's name says that its value is a secret.

    The name is cut into word parts (at ``_``, digits and camelCase), and a part must
    be one of the secret words, or end with a strong one, so that ``KEYBOARD_LAYOUT``
    and ``MONKEY`` stay visible while ``AWS_ACCESS_KEY_ID`` and ``apiToken`` do not.
    """
    parts = _NOT_LETTERS.split(_CAMEL_BOUNDARY.sub("_", name))
    return any(
        part.upper() in _SECRET_WORDS or part.upper().endswith(_SECRET_ENDINGS)
        for part in parts
        if part
    )


@dataclass(frozen=True)
class Masker:
    """The secret names of one spec and their values, and how to hide them."""

    names: frozenset[str]
    values: tuple[str, ...]
    """Longest first, so that a value containing another is replaced whole."""

    @classmethod
    def for_spec(cls, spec: ScriptSpec) -> Masker:
        names = frozenset(
            {name for name in spec.environment if looks_secret(name)} | set(spec.secret_env)
        )
        values = {
            spec.environment[name]
            for name in names
            if len(spec.environment.get(name, "")) >= MIN_SCRUBBED_VALUE_CHARS
        }
        return cls(names, tuple(sorted(values, key=len, reverse=True)))

    def environment(self, environment: Mapping[str, str]) -> dict[str, str]:
        """``environment`` with the value of every secret name replaced by ``***``."""
        return {name: MASK if name in self.names else value for name, value in environment.items()}

    def text(self, text: str) -> str:
        """``text`` with every occurrence of a secret value replaced by ``***``."""
        for value in self.values:
            text = text.replace(value, MASK)
        return text

    def data(self, payload: _Json) -> _Json:
        """Every string inside a JSON-like payload (keys too) passed through :meth:`text`."""
        if not self.values:
            return payload
        return self._scrub(payload)

    def _scrub(self, payload: Any) -> Any:
        if isinstance(payload, str):
            return self.text(payload)
        if isinstance(payload, dict):
            return {self._scrub(key): self._scrub(value) for key, value in payload.items()}
        if isinstance(payload, list):
            return [self._scrub(item) for item in payload]
        return payload

    def spec(self, spec: ScriptSpec) -> dict[str, Any]:
        """The spec as JSON, as it is saved and shown: secret values masked."""
        payload = spec.model_dump(mode="json")
        payload["environment"] = self.environment(spec.environment)
        return self.data(payload)

    def result(self, result: TestResult) -> TestResult:
        """The result with every secret value masked, in its spec and in any text."""
        payload = result.to_json_dict()
        environment = payload.get("spec", {}).get("environment")
        if isinstance(environment, dict):
            payload["spec"]["environment"] = self.environment(environment)
        return TestResult.model_validate(self.data(payload))

    def chunks(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """A byte stream with every secret value replaced by ``***``, also a value split
        across two chunks: the last few bytes of each chunk wait for the next one."""
        if not self.values:
            yield from chunks
            return
        encoded = [value.encode("utf-8") for value in self.values]
        held = max(len(value) for value in encoded) - 1
        pending = b""
        for chunk in chunks:
            pending = _replace_all(pending + chunk, encoded)
            # A value starting before the last `held` bytes is whole, so already masked.
            if len(pending) > held:
                cut = len(pending) - held
                yield pending[:cut]
                pending = pending[cut:]
        if pending:
            yield pending

    def stream(self, on_output: Callable[[bytes], None]) -> Callable[[bytes], None]:
        """A live-output callback that masks each chunk before passing it on (a value
        split across two chunks is not caught: the stored logs are masked whole)."""
        if not self.values:
            return on_output
        encoded = [value.encode("utf-8") for value in self.values]

        def masked(chunk: bytes) -> None:
            on_output(_replace_all(chunk, encoded))

        return masked


def _replace_all(data: bytes, values: list[bytes]) -> bytes:
    for value in values:
        data = data.replace(value, MASK.encode())
    return data
