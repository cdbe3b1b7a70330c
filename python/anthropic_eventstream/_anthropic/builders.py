"""Native builders for the SDK's streamed event models: learned from the installed SDK and pydantic, proved equal to
the validator before a stream uses them.

The tagged validator (``models.event_validator``) spends much of an event's cost in pydantic-core's machinery
rather than in the objects it makes. The extension's ``ModelBuilder`` makes those objects as pydantic-core does (the class's ``tp_new``, then ``__dict__`` in field order, ``__pydantic_extra__``,
``__pydantic_private__``, ``__pydantic_fields_set__``) while it reads the JSON once, for the shapes learned here.

``shape`` reads the tagged validator's own core schema into that builder's spec. It takes a model only where
validating it runs no Python code and stores exactly what the JSON holds: its fields without validation
aliases, each a plain ``str``, ``int`` or ``bool``, a ``Literal`` of strings (built as the validator's own
string objects), nullable, defaulted to an immutable value, a nested model, or a union tagged by ``type``.
Anything else (a list, a dict, a float, a constraint, a default factory, a config this module does not know)
is ``declined``: an event that holds it goes to the validator. The builder declines, too, any event whose JSON
it does not read exactly (see ``rust/py/src/model.rs``). On the bench's realistic answer it costs 0.78 µs an event
against ``validate_json``'s 1.12 µs; most of that is CPython's own work of making and freeing the objects.

Before a stream first uses it (``_learn``, once per event union), the builder is proved on probe payloads made
from the spec (every member of every union, every field present and absent, null and not, hostile strings escaped
and not): each built object must be the validator's, class, ``__dict__`` and its order, field set, extras,
private attributes, types, literal string identity and ``model_dump()``. If one differs, the builder stays off and ``builder_report`` says why.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

from .. import _backend
from .models import cached, event_validator, tagged_schema

__all__ = ["builder_report", "event_builder", "native_builder", "probes", "prove", "shape"]

#: Kind spec tuples, as ``_native.ModelBuilder`` reads them.
Kind = tuple[Any, ...]

_DECLINED: Kind = ("declined",)
#: Keys of a leaf schema that change nothing it builds.
_INERT = frozenset({"type", "metadata", "ref", "serialization"})
#: Model config keys that change nothing a builder covers (aliases are refused field by field).
_CONFIG = frozenset({"title", "extra_fields_behavior", "populate_by_name", "validate_by_name", "validate_by_alias"})
_MODEL = frozenset({"type", "cls", "schema", "config", "ref", "metadata", "serialization", "custom_init",
                    "root_model", "post_init", "generic_origin"})  # fmt: skip
_FIELDS = frozenset({"type", "fields", "model_name", "computed_fields", "extra_behavior", "extras_schema"})
_FIELD = frozenset({"type", "schema", "metadata", "serialization_alias", "serialization_exclude", "frozen"})
_IMMUTABLE = (type(None), bool, int, str)


class _Learner:
    """Reads a core schema into kinds, resolving definition refs; a model met again inside itself is declined."""

    def __init__(self, definitions: dict[str, Any]) -> None:
        self.definitions = definitions
        self.open: set[int] = set()

    def resolve(self, schema: Any) -> Any:
        while isinstance(schema, dict) and schema.get("type") == "definition-ref":
            schema = self.definitions.get(str(schema.get("schema_ref")))
        return schema

    def kind(self, schema: Any) -> Kind:
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return _DECLINED
        kind = schema.get("type")
        if kind in ("str", "int", "bool") and _INERT.issuperset(schema):
            return (kind,)
        if kind == "literal" and _INERT.union({"expected"}).issuperset(schema):
            expected = schema.get("expected")
            if isinstance(expected, list) and expected and all(type(value) is str for value in expected):
                return ("literal", [(value, value) for value in expected])
            return _DECLINED
        if kind == "nullable" and _INERT.union({"schema"}).issuperset(schema):
            inner = self.kind(schema["schema"])
            return _DECLINED if inner == _DECLINED else ("nullable", inner)
        if kind == "model":
            model = self.model(schema)
            return _DECLINED if model is None else ("model", model)
        if kind == "tagged-union" and _INERT.union({"choices", "discriminator"}).issuperset(schema):
            return self.union(schema)
        return _DECLINED

    def union(self, schema: dict[str, Any]) -> Kind:
        choices = schema.get("choices")
        if schema.get("discriminator") != "type" or not isinstance(choices, dict):
            return _DECLINED
        members = []
        for tag, choice in choices.items():
            model = self.model(self.resolve(choice)) if type(tag) is str else None
            tags = next((field[1] for field in model[1] if field[0] == "type"), None) if model else None
            if model is not None and tags is not None and tags[0] == "literal" and tag in dict(tags[1]):
                members.append((tag, model))
        return ("union", members) if members else _DECLINED

    def model(self, schema: Any) -> tuple[Any, ...] | None:
        """``(class, fields, extra, setters)`` for a model schema this covers, else ``None``."""
        if not isinstance(schema, dict) or schema.get("type") != "model" or not _MODEL.issuperset(schema):
            return None
        if schema.get("root_model") or schema.get("custom_init") or schema.get("post_init") is not None:
            return None
        config = schema.get("config") or {}
        fields = schema.get("schema")
        cls = schema.get("cls")
        if not isinstance(cls, type) or not isinstance(config, dict) or not _CONFIG.issuperset(config):
            return None
        if not isinstance(fields, dict) or fields.get("type") != "model-fields" or not _FIELDS.issuperset(fields):
            return None
        if id(schema) in self.open:
            return None
        self.open.add(id(schema))
        try:
            learned = []
            for name, field in fields.get("fields", {}).items():
                if not isinstance(field, dict) or field.get("type") != "model-field" or not _FIELD.issuperset(field):
                    return None
                learned.append((name, *self.field(field["schema"])))
        finally:
            self.open.discard(id(schema))
        extra = (fields.get("extra_behavior") or config.get("extra_fields_behavior")) == "allow"
        setters = _setters(cls)
        return None if setters is None else (cls, learned, extra, setters)

    def field(self, schema: Any) -> tuple[Kind, bool, Any]:
        """``(kind, required, default)`` of one field's schema."""
        schema = self.resolve(schema)
        if isinstance(schema, dict) and schema.get("type") == "default":
            if not _INERT.union({"schema", "default"}).issuperset(schema) or "default" not in schema:
                return _DECLINED, False, None  # a default factory, validate_default, ...: never absent here
            default = schema["default"]
            if not isinstance(default, _IMMUTABLE):
                return _DECLINED, True, None
            return self.kind(schema["schema"]), False, default
        return self.kind(schema), True, None


#: The attributes pydantic-core sets on a model it builds, in its order.
_SLOTS = ("__dict__", "__pydantic_extra__", "__pydantic_private__", "__pydantic_fields_set__")


def _setters(cls: type) -> tuple[Any, ...] | None:
    """The data descriptors ``cls`` finds for each of ``_SLOTS`` (what ``object.__setattr__`` calls), found as
    attribute lookup finds them: the first class of the MRO that defines the name, which must define it as a
    data descriptor (pydantic's ``__slots__``); ``None`` otherwise."""
    found = []
    for name in _SLOTS:
        owner = next((klass for klass in type.__getattribute__(cls, "__mro__") if name in vars(klass)), None)
        descriptor = None if owner is None else vars(owner)[name]
        if descriptor is None or not hasattr(type(descriptor), "__set__"):
            return None
        found.append(descriptor)
    return tuple(found)


def shape(schema: Any, definitions: dict[str, Any]) -> Kind:
    """The builder spec of an event union's tagged core schema (``models.tagged_schema``)."""
    learner = _Learner(definitions)
    top = schema["schema"] if isinstance(schema, dict) and schema.get("type") == "definitions" else schema
    return learner.kind(top)


# -- probes -----------------------------------------------------------------------------------------------------

#: Strings the probes fill text fields with: escapes, non-ASCII, emoji, a quote and a backslash, control
#: characters, and a long one.
_TEXTS = (
    "Hello",
    "",
    'naïve café 日本語 🚀 "quoted" \\ back/slash\n\ttab\u2028\u0000\u001f',
    "x" * 5000 + "é😀",
)
_INTEGERS = (0, 7, -3, 2**62)


def _values(kind: Kind, variant: int) -> Iterator[Any]:
    """JSON values of ``kind``, several per kind, one per union member."""
    name = kind[0]
    if name == "str":
        yield _TEXTS[variant % len(_TEXTS)]
    elif name == "int":
        yield _INTEGERS[variant % len(_INTEGERS)]
    elif name == "bool":
        yield variant % 2 == 0
    elif name == "literal":
        options = [text for text, _ in kind[1]]
        yield options[variant % len(options)]
    elif name == "nullable":
        yield None
        yield from _values(kind[1], variant)
    elif name == "model":
        yield from _objects(kind[1], variant)
    elif name == "union":
        for _, model in kind[1]:
            yield from _objects(model, variant)


def _objects(model: tuple[Any, ...], variant: int) -> Iterator[dict[str, Any]]:
    """Objects for ``model``: every field present, and only the required ones; with each alternative of each
    field once. The union tag comes first, as the builder reads it."""
    fields = sorted(model[1], key=lambda field: field[0] != "type")
    choices = [
        list(itertools.islice(_values(kind, variant), 1000)) if kind != _DECLINED else [] for _, kind, _, _ in fields
    ]
    if any(not options and required for options, (_, _, required, _) in zip(choices, fields, strict=True)):
        return
    longest = max((len(options) for options in choices), default=1)
    for round_ in range(max(longest, 1)):
        for full in (True, False):
            yield {
                name: options[round_ % len(options)]
                for options, (name, _, required, _) in zip(choices, fields, strict=True)
                if options and (required or full)
            }


def probes(kind: Kind) -> list[bytes]:
    """The probe payloads of a spec: its objects' JSON, as written with and without ``\\u`` escapes."""
    payloads: list[bytes] = []
    for variant in range(len(_TEXTS)):
        for value in _values(kind, variant):
            for ascii_only in (False, True):
                payloads.append(json.dumps(value, ensure_ascii=ascii_only).encode())
    return list(dict.fromkeys(payloads))


# -- the proof --------------------------------------------------------------------------------------------------


def _literals(kind: Any) -> set[int]:
    """The ids of every literal string object a spec builds with."""
    found: set[int] = set()
    stack = [kind]
    while stack:
        node = stack.pop()
        if isinstance(node, tuple) and node and node[0] == "literal":
            found.update(id(value) for _, value in node[1])
        elif isinstance(node, (tuple, list)):
            stack.extend(node)
    return found


def _differs(built: Any, validated: Any, literals: set[int], where: str) -> str | None:
    """Where ``built`` is not exactly ``validated`` (``None``: it is). ``literals``: the ids of the literal
    strings the builder uses, which must be the very objects the validator gives."""
    if type(built) is not type(validated):
        return f"{where}: {type(built).__name__} instead of {type(validated).__name__}"
    if isinstance(validated, str) and (id(built) in literals or id(validated) in literals) and built is not validated:
        return f"{where}: {built!r} is not the validator's own string object"
    if not hasattr(validated, "__pydantic_fields_set__"):
        return None if built == validated else f"{where}: {built!r} instead of {validated!r}"
    for slot in ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__"):
        mine, theirs = getattr(built, slot), getattr(validated, slot)
        if mine != theirs or type(mine) is not type(theirs):
            return f"{where}.{slot}: {mine!r} instead of {theirs!r}"
    mine, theirs = vars(built), vars(validated)
    if list(mine) != list(theirs):
        return f"{where}.__dict__: keys {list(mine)} instead of {list(theirs)}"
    for key, value in theirs.items():
        found = _differs(mine[key], value, literals, f"{where}.{key}")
        if found:
            return found
    return None


def prove(builder: Any, validate_json: Callable[[bytes], Any], spec: Kind, payloads: list[bytes]) -> str | None:
    """Why ``builder`` (built from ``spec``) is not exact on ``payloads`` against ``validate_json`` (``None``: it
    is)."""
    literals = _literals(spec)
    built_any = False
    for payload in payloads:
        try:
            validated = validate_json(payload)
        except Exception:
            if builder.build(payload) is not None:
                return f"built an object the validator refuses: {payload[:200]!r}"
            continue
        built = builder.build(payload)
        if built is None:
            continue
        built_any = True
        found = _differs(built, validated, literals, type(validated).__name__)
        if found is None and built.model_dump() != validated.model_dump():
            found = "model_dump() differs"
        if found is not None:
            return f"{found} (payload {payload[:200]!r})"
    return None if built_any else "it built none of the probe payloads"


# -- per event union --------------------------------------------------------------------------------------------


class _Learned:
    __slots__ = ("build", "on", "tags", "why")

    def __init__(self, build: Any, why: str | None, tags: list[str]) -> None:
        self.build, self.why, self.tags = build, why, tags
        self.on = why is None


def _learn(cast_to: Any) -> _Learned:
    native = _backend.native_module(None)
    validator = event_validator(cast_to)
    found = tagged_schema(cast_to)
    if native is None or validator is None or found is None:
        why = "the python backend builds events through the validator" if native is None else "no tagged validator"
        return _Learned(None, why, [])
    spec = shape(*found)
    if spec[0] != "union":
        return _Learned(None, "the event union's schema is not one the native builder covers", [])
    tags = [tag for tag, _ in spec[1]]
    try:
        builder = native.ModelBuilder(spec, validator.validate_json)
    except Exception as exc:  # a spec the binding refuses: the validator serves
        return _Learned(None, f"the native builder refused the learned shape: {type(exc).__name__}: {exc}", tags)
    failed = prove(builder, validator.validate_json, spec, probes(spec))
    if failed is not None:
        return _Learned(None, f"its proof failed: {failed}", tags)
    return _Learned(builder, None, tags)


#: ``id(cast_to)`` -> ``(cast_to, learned)``, as ``models._validators`` (``models.cached``).
_learned: dict[int, tuple[Any, _Learned]] = {}
_lock = threading.Lock()


def _entry(cast_to: Any) -> _Learned:
    learned: _Learned = cached(_learned, _lock, cast_to, _learn)
    return learned


def event_builder(cast_to: Any) -> Callable[[bytes], Any] | None:
    """How a stream of ``cast_to`` events makes each model from its JSON bytes: the proved native builder (which
    hands what it declines to the validator), else the tagged validator's ``validate_json``, else ``None``."""
    learned = _entry(cast_to)
    if learned.build is not None:
        return learned.build.model  # type: ignore[no-any-return]
    validator = event_validator(cast_to)
    return None if validator is None else validator.validate_json


def native_builder(cast_to: Any) -> Any:
    """The proved native builder of ``cast_to``'s events (a ``_native.ModelBuilder``: ``build(bytes)`` gives the
    model, or ``None`` where it declines), or ``None`` where it is off."""
    return _entry(cast_to).build


def builder_report(cast_to: Any) -> dict[str, Any]:
    """For ``diagnostics()``: whether ``cast_to``'s events are built natively, which union members the builder
    covers, and why not where it is off."""
    learned = _entry(cast_to)
    return {"on": learned.on, **({"why": learned.why} if learned.why else {}), "events": learned.tags}


def forget() -> None:
    """Empties the cache (``uninstall()`` calls it, with ``models.forget``)."""
    with _lock:
        _learned.clear()
