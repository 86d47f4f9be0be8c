"""A lean stand-in for :mod:`dataclasses` on the compile path.

Why: ``import dataclasses`` pulls in ``inspect`` (and with it ``ast``, ``dis``, ``tokenize``), and
every ``@dataclass`` compiles generated source with ``exec``. On this project's 2-core machines
that was about 30 ms of every cold ``aibtui compile`` (15 ms import, ~0.7 ms per class), a third
of the start-up budget. The compiler's data classes only need what this module gives, built with
closures instead of ``exec``:

- ``__init__`` with positional or keyword arguments, defaults and ``field(default_factory=...)``
  (a class may define its own ``__init__`` for speed; it is kept),
- ``__repr__``, ``__eq__`` (``eq=False`` keeps identity), ``__hash__`` for frozen classes,
- ``frozen=True`` (assignment raises ``AttributeError``), ``slots=True`` (a ``__slots__`` class),
- fields inherited from record base classes, ``__match_args__``, ``replace(obj, **changes)``.

Usage is the same as dataclasses: ``@dataclass(frozen=True, slots=True)`` over annotated fields.
``dataclass`` is marked with :func:`typing.dataclass_transform` (PEP 681), so type checkers read a
record exactly as a standard data class (its ``__init__`` signature, frozen fields). Code outside
the compiler uses the standard library's dataclasses.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, dataclass_transform

    _D = TypeVar("_D")
else:
    def dataclass_transform(**_specs: object) -> Callable[[_D], _D]:
        """Type checkers read the branch above; at run time the marker changes nothing here."""
        return lambda decorator: decorator

_MISSING: Any = object()
_FIELDS = "__record_fields__"


class _Field:
    __slots__ = ("default", "default_factory")

    def __init__(self, default: Any = _MISSING, default_factory: Any = _MISSING) -> None:
        self.default = default
        self.default_factory = default_factory


def field(*, default: Any = _MISSING, default_factory: Any = _MISSING) -> Any:
    return _Field(default, default_factory)


class FrozenInstanceError(AttributeError):
    pass


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r} of a frozen {type(self).__name__}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r} of a frozen {type(self).__name__}")


def _is_classvar(annotation: Any) -> bool:
    return isinstance(annotation, str) and annotation.replace("typing.", "").startswith("ClassVar")


@dataclass_transform(field_specifiers=(field,))
def dataclass(cls: type | None = None, /, *, frozen: bool = False, slots: bool = False, eq: bool = True) -> Any:
    def wrap(klass: type) -> type:
        return _process(klass, frozen=frozen, slots=slots, eq=eq)

    return wrap if cls is None else wrap(cls)


def _process(cls: type, *, frozen: bool, slots: bool, eq: bool) -> type:
    names: list[str] = []
    defaults: dict[str, Any] = {}
    factories: dict[str, Any] = {}
    for base in reversed(cls.__mro__[1:]):
        inherited = base.__dict__.get(_FIELDS)
        if inherited:
            for name, default, factory in inherited:
                if name not in names:
                    names.append(name)
                if default is not _MISSING:
                    defaults[name] = default
                if factory is not _MISSING:
                    factories[name] = factory
    own: list[str] = []
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if _is_classvar(annotation):
            continue
        if name not in names:
            names.append(name)
        own.append(name)
        value = cls.__dict__.get(name, _MISSING)
        if isinstance(value, _Field):
            if value.default is not _MISSING:
                defaults[name] = value.default
            if value.default_factory is not _MISSING:
                factories[name] = value.default_factory
        elif value is not _MISSING:
            defaults[name] = value
    record = tuple((n, defaults.get(n, _MISSING), factories.get(n, _MISSING)) for n in names)

    namespace = dict(cls.__dict__)
    for name in own:  # class-level defaults would shadow slots
        namespace.pop(name, None)
    namespace[_FIELDS] = record
    namespace["__match_args__"] = tuple(names)
    if "__init__" not in cls.__dict__:
        namespace["__init__"] = _make_init(tuple(names), defaults, factories, frozen)
    if "__repr__" not in cls.__dict__:
        namespace["__repr__"] = _make_repr(tuple(names))
    if eq and "__eq__" not in cls.__dict__:
        namespace["__eq__"] = _make_eq(tuple(names))
        namespace["__hash__"] = _make_hash(tuple(names)) if frozen else None
    if frozen:
        namespace["__setattr__"] = _frozen_setattr
        namespace["__delattr__"] = _frozen_delattr
    if slots:
        inherited_slots = {s for base in cls.__mro__[1:] for s in getattr(base, "__slots__", ())}
        namespace["__slots__"] = tuple(n for n in own if n not in inherited_slots)
        namespace.pop("__dict__", None)
        namespace.pop("__weakref__", None)
    new = type(cls)(cls.__name__, cls.__bases__, namespace)
    new.__qualname__ = cls.__qualname__
    return new


def _make_init(names: tuple[str, ...], defaults: dict[str, Any], factories: dict[str, Any], frozen: bool) -> Any:
    setter = object.__setattr__
    count = len(names)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > count:
            raise TypeError(f"{type(self).__name__}() takes {count} arguments, {len(args)} given")
        for name, value in zip(names, args, strict=False):
            setter(self, name, value)
        for name in names[len(args):]:
            if name in kwargs:
                value = kwargs.pop(name)
            elif name in defaults:
                value = defaults[name]
            elif name in factories:
                value = factories[name]()
            else:
                raise TypeError(f"{type(self).__name__}() missing argument {name!r}")
            setter(self, name, value)
        if kwargs:
            raise TypeError(f"{type(self).__name__}() got unexpected arguments {sorted(kwargs)}")
        post = getattr(self, "__post_init__", None)
        if post is not None:
            post()

    return __init__


def _make_repr(names: tuple[str, ...]) -> Any:
    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{n}={getattr(self, n, '<unset>')!r}" for n in names)
        return f"{type(self).__qualname__}({inner})"

    return __repr__


def _make_eq(names: tuple[str, ...]) -> Any:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in names)

    return __eq__


def _make_hash(names: tuple[str, ...]) -> Any:
    def __hash__(self: Any) -> int:
        return hash(tuple(getattr(self, n) for n in names))

    return __hash__


def fields(obj: Any) -> tuple[str, ...]:
    """The field names of a record class or instance."""
    return tuple(name for name, _d, _f in getattr(obj, _FIELDS))


def replace(obj: Any, **changes: Any) -> Any:
    """A copy of ``obj`` with some fields changed (like dataclasses.replace)."""
    values = {name: getattr(obj, name) for name in fields(obj)}
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no fields {sorted(unknown)}")
    values.update(changes)
    return type(obj)(**values)
