"""The SDK's per-event model building, made cheap without changing its answer.

For every streamed event the SDK calls ``construct_type`` on its event union (``RawMessageStreamEvent`` and the
beta twin), which first validates the data against the union with pydantic. The SDK marks its unions as
discriminated by ``type`` with its own ``PropertyInfo``, which pydantic does not read: pydantic validates them
as "smart" unions, trying every member (and, for a ``content_block_delta``, every delta type again), and builds
a ``ValidationError`` for each member that fails. That is most of an event's cost.

``event_validator`` builds, once per union, a validator from the SDK's own core schema in which every union
whose members are all models with a required ``type: Literal[...]`` field (distinct values) is a tagged union
on ``type``. Such a union can only validate as the member its tag names: every other member fails on its
``Literal``. So where the tagged validator succeeds, the smart union would have picked the same member and
built the same object (the same SDK class, fields and ``model_fields_set``); where it fails, the SDK's own
code runs, unchanged, and decides (its lenient fallback for unknown event types included). Any union this
does not recognise is left as the SDK built it.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

__all__ = [
    "built_throughout",
    "cached",
    "event_validator",
    "fast_build",
    "fast_process_response_data",
    "model_validator",
    "schema_validator",
    "tagged_schema",
    "tagged_unions",
]

_TAG = "type"


def _resolve(schema: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(schema, dict) and schema.get("type") == "definition-ref":
        return definitions.get(str(schema.get("schema_ref")))
    return schema


def _model_tags(schema: Any) -> list[str] | None:
    """The values of a model schema's required ``type: Literal[...]`` field, read by that key; else ``None``."""
    if not isinstance(schema, dict) or schema.get("type") != "model" or schema.get("root_model"):
        return None
    if schema.get("custom_init") or schema.get("post_init") not in (None, "model_post_init"):
        return None
    fields = schema.get("schema")
    if not isinstance(fields, dict) or fields.get("type") != "model-fields":
        return None
    field = fields.get("fields", {}).get(_TAG)
    if not isinstance(field, dict) or field.get("type") != "model-field" or "validation_alias" in field:
        return None
    literal = field.get("schema")
    if not isinstance(literal, dict) or literal.get("type") != "literal":
        return None
    expected = literal.get("expected")
    if not isinstance(expected, list) or not expected or not all(type(value) is str for value in expected):
        return None
    return expected


#: the keys a smart ``union`` schema may have for it to be replaced by a tagged one
_UNION_KEYS = frozenset({"type", "choices", "mode", "ref", "metadata", "serialization"})


def _tagged_union(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any] | None:
    """A ``tagged-union`` equivalent to the smart ``union`` ``schema``, if every member is a model tagged by a
    distinct ``type`` literal; else ``None``."""
    if not _UNION_KEYS.issuperset(schema) or schema.get("mode", "smart") != "smart":
        return None
    choices: dict[str, Any] = {}
    for choice in schema["choices"]:
        if isinstance(choice, tuple):  # (schema, label)
            choice = choice[0]
        tags = _model_tags(_resolve(choice, definitions))
        if tags is None or any(tag in choices for tag in tags):
            return None
        choices.update(dict.fromkeys(tags, choice))
    tagged: dict[str, Any] = {"type": "tagged-union", "choices": choices, "discriminator": _TAG}
    tagged.update({key: schema[key] for key in ("ref", "metadata", "serialization") if key in schema})
    return tagged


def _rewrite(node: Any, definitions: dict[str, Any]) -> Any:
    """``node`` (a core schema, or anything inside one) with its eligible unions tagged; new containers, the
    same leaves (classes, functions, literal values)."""
    if isinstance(node, dict):
        rewritten = {key: _rewrite(value, definitions) for key, value in node.items()}
        if rewritten.get("type") == "union" and isinstance(rewritten.get("choices"), list):
            return _tagged_union(rewritten, definitions) or rewritten
        return rewritten
    if isinstance(node, list):
        return [_rewrite(item, definitions) for item in node]
    if isinstance(node, tuple):
        return tuple(_rewrite(item, definitions) for item in node)
    return node


def _definitions(schema: Any) -> dict[str, Any]:
    """Every schema in ``schema`` that carries a ``ref``, by that ref, wherever it stands.

    Where pydantic puts a definition depends on the process's history, not on the SDK: in a fresh process the
    union's ``TypeAdapter`` lists them all in one top-level ``definitions`` schema; once the SDK's models have
    been validated (their own schemas complete and cached), it reuses those, which inline a model where it is
    first used, with its ``ref``, and point at it from elsewhere by ``definition-ref``. Reading every ``ref``
    of the tree resolves both shapes alike, so the tagged validator is the same whatever ran before."""
    found: dict[str, Any] = {}
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("ref")
            if isinstance(ref, str) and node.get("type") != "definition-ref":
                found.setdefault(ref, node)
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return found


def _build(cast_to: Any) -> Any:
    """The tagged validator for ``cast_to``, or ``None`` if it is not a union this recognises."""
    import pydantic

    if not pydantic.VERSION.startswith("2."):
        return None
    try:
        from anthropic._utils import extract_type_arg, is_annotated_type

        union = extract_type_arg(cast_to, 0) if is_annotated_type(cast_to) else cast_to
        schema = pydantic.TypeAdapter(union).core_schema
    except Exception:
        return None
    definitions = _definitions(schema)
    top = schema["schema"] if schema.get("type") == "definitions" else schema
    if not isinstance(top, dict) or top.get("type") != "union" or _tagged_union(top, definitions) is None:
        return None
    rewritten = _rewrite(schema, definitions)
    try:
        validator = schema_validator(rewritten)
    except Exception:
        return None
    _tagged[id(cast_to)] = len(_tag_sets(rewritten))
    _schemas[id(cast_to)] = (rewritten, _definitions(rewritten))
    return validator


def _tag_sets(schema: Any) -> set[frozenset[str]]:
    """The distinct tagged unions of a (rewritten) schema, each by its set of tags: the same for the same
    classes, however pydantic laid the schema out (inlined once or listed as definitions)."""
    found: set[frozenset[str]] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "tagged-union" and isinstance(node.get("choices"), dict):
                found.add(frozenset(node["choices"]))
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return found


#: ``id(cast_to)`` -> how many distinct unions its tagged validator tags (``tagged_unions``).
_tagged: dict[int, int] = {}
#: ``id(cast_to)`` -> the tagged validator's core schema and its definitions by ref (``tagged_schema``).
_schemas: dict[int, tuple[Any, dict[str, Any]]] = {}


def tagged_schema(cast_to: Any) -> tuple[Any, dict[str, Any]] | None:
    """The core schema the tagged validator of ``cast_to`` was built from, with its definitions by ref
    (what the native model builders learn their shapes from); ``None`` where it has no tagged validator."""
    event_validator(cast_to)
    return _schemas.get(id(cast_to))


def tagged_unions(cast_to: Any) -> int:
    """How many distinct unions (by their tags) the tagged validator of ``cast_to`` tags; 0 if it has none."""
    event_validator(cast_to)
    return _tagged.get(id(cast_to), 0)


@functools.cache
def built_throughout() -> bool:
    """Whether the tagged validators are built from their own schema throughout (``schema_validator``): this
    pydantic-core's ``SchemaValidator`` takes ``_use_prebuilt`` (it lists it in its signature). Asked when first
    needed: this package imports without pydantic (the framing needs none)."""
    try:
        import pydantic_core
    except ImportError:
        return False
    return "_use_prebuilt" in (getattr(pydantic_core.SchemaValidator, "__text_signature__", None) or "")


def schema_validator(schema: Any) -> Any:
    """A ``SchemaValidator`` built from ``schema`` itself, all the way down.

    pydantic-core reuses ("prebuilt") the validator of each model class inside a schema once that class is
    complete, instead of building the model from the schema it is given. The SDK's classes become complete when
    the process first validates them (the SDK defers building them), so in a process that has used the SDK
    the tagged unions written into the schema would be replaced, model by model, by the classes' own smart
    unions, at three times the cost per event. pydantic-core's ``_use_prebuilt=False`` (a parameter of its
    ``SchemaValidator``, listed in its signature) builds the schema as written, so the validator is the same
    whatever the process did before. Without the switch (older pydantic-core), the
    validator is built as that pydantic-core builds it."""
    import pydantic_core

    if built_throughout():
        return pydantic_core.SchemaValidator(schema, _use_prebuilt=False)
    return pydantic_core.SchemaValidator(schema)


#: ``id(cast_to)`` -> ``(cast_to, validator or None)``: by identity, as ``typing``'s own hashing of an
#: ``Annotated`` alias is Python code that would cost more than a tenth of an event; the type is kept alive
#: with its entry, so that its id cannot be reused.
_validators: dict[int, tuple[Any, Any]] = {}
_lock = threading.Lock()


def cached(table: dict[int, tuple[Any, Any]], lock: Any, key: Any, build: Callable[[Any], Any]) -> Any:
    """``build(key)``, made once per ``key`` by identity under ``lock`` and kept in ``table`` as ``id(key)`` ->
    ``(key, value)``: the key is kept alive with its entry, so that its id cannot be reused. Callers on a hot
    path read ``table`` first themselves and call this only for a key not in it yet."""
    entry = table.get(id(key))
    if entry is None:
        with lock:
            entry = table.get(id(key))
            if entry is None:
                entry = table[id(key)] = (key, build(key))
    return entry[1]


def event_validator(cast_to: Any) -> Any:
    """The tagged validator for a streamed event union (built on first use), or ``None`` for anything else."""
    return cached(_validators, _lock, cast_to, _build)


def fast_process_response_data(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps the client's ``_process_response_data``: a streamed event's dict goes through the tagged validator
    first; anything it does not accept, and everything else, through the SDK's own code."""
    validators = _validators

    @functools.wraps(original)
    def _process_response_data(self: Any, *, data: object, cast_to: Any, response: Any) -> Any:
        entry = validators.get(id(cast_to))  # inline: this runs for every event
        validator = event_validator(cast_to) if entry is None else entry[1]
        if validator is not None and type(data) is dict:
            try:
                return validator.validate_python(data)
            except Exception:
                pass
        return original(self, data=data, cast_to=cast_to, response=response)

    return _process_response_data


#: Core schema types whose presence anywhere in a model's schema means Python code runs during validation
#: (validators, custom ``__init__``, ``model_post_init``): such a model is left to the SDK's ``build``.
_CODE = ("function-before", "function-after", "function-wrap", "function-plain", "custom_init", "post_init")


def _runs_code(node: Any) -> bool:
    if isinstance(node, dict):
        if node.get("type") in _CODE or node.get("custom_init") or node.get("post_init"):
            return True
        return any(_runs_code(value) for value in node.values())
    if isinstance(node, (list, tuple)):
        return any(_runs_code(item) for item in node)
    return False


#: ``id(cls)`` -> ``(cls, validator or None)``, as for ``_validators``.
_model_validators: dict[int, tuple[Any, Any]] = {}


def model_validator(cls: Any) -> Any:
    """``cls``'s own pydantic validator, if validating with it builds what the SDK's ``build(cls, **fields)``
    builds from valid fields: a pydantic v2 model whose validation runs no Python code. Else ``None``."""
    entry = _model_validators.get(id(cls))  # inline: the helper asks for every event it builds
    return entry[1] if entry is not None else cached(_model_validators, _lock, cls, _own_validator)


def _own_validator(cls: Any) -> Any:
    import pydantic

    try:  # through a TypeAdapter: the SDK defers building its models' own schemas
        adapter = pydantic.TypeAdapter(cls)
        if adapter.core_schema.get("type") == "model" and not _runs_code(adapter.core_schema):
            return adapter.validator
    except Exception:  # pydantic v1, or not a model: left to the SDK
        pass
    return None


def forget() -> None:
    """Empties the caches above (``uninstall()`` calls it): an SDK type's entry keeps the type alive, so that
    its id is not reused while the entry exists; a client still accelerated rebuilds what it needs."""
    with _lock:
        _tagged.clear()
        _schemas.clear()
        _validators.clear()
        _model_validators.clear()


def fast_build(original: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps the SDK's ``build(cls, **fields)``, which the ``messages.stream()`` helper calls for each event it
    adds (``TextEvent``, ``InputJsonEvent``, ...), and which constructs without validating, field by field in
    Python. For the values the helper passes (strings, literals, and models and lists of models it already
    holds), validating builds the same object: the same fields in the same order, ``model_fields_set`` and
    extras, the same instances inside. Anything the validator does not accept goes to the SDK's ``build``."""

    @functools.wraps(original)
    def build(base_model_cls: Any, *args: Any, **kwargs: Any) -> Any:
        validator = None if args else model_validator(base_model_cls)
        if validator is not None:
            try:
                return validator.validate_python(kwargs)
            except Exception:
                pass
        return original(base_model_cls, *args, **kwargs)

    return build
