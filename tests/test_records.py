"""compiler/records.py: the lean dataclass stand-in behaves like dataclasses where the compiler relies on it."""

from __future__ import annotations

import pytest

from aibtui.compiler.records import FrozenInstanceError, dataclass, field, fields, replace


@dataclass(frozen=True, slots=True)
class Point:
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Base:
    a: int


@dataclass(slots=True, eq=False)
class Child(Base):
    b: str = "b"


def test_init_defaults_factories_repr_eq_hash():
    p = Point(1)
    assert (p.x, p.y, p.tags) == (1, 0, [])
    assert Point(1).tags is not Point(1).tags
    assert Point(1, 2) == Point(x=1, y=2) and Point(1) != Point(2)
    assert repr(Point(1, 2)) == "Point(x=1, y=2, tags=[])"
    assert hash(Point(1, 2, ())) == hash(Point(1, 2, ()))
    with pytest.raises(TypeError):
        Point()
    with pytest.raises(TypeError):
        Point(1, z=3)


def test_frozen_and_slots():
    p = Point(1)
    with pytest.raises(FrozenInstanceError):
        p.x = 2
    assert not hasattr(p, "__dict__")
    assert Point.__slots__ == ("x", "y", "tags")


def test_inheritance_and_identity_equality():
    c = Child(1)
    assert (c.a, c.b) == (1, "b")
    assert c != Child(1)  # eq=False keeps identity
    assert fields(Child) == ("a", "b")
    c.b = "x"
    assert c.b == "x"


def test_replace():
    assert replace(Point(1, 2), y=5) == Point(1, 5)
    with pytest.raises(TypeError):
        replace(Point(1), z=1)
