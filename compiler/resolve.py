"""Resolving: ``extends`` (profiles) and ``include`` (fragments), merged into one document.

Order of application. The document is *linearised*: each file contributes one layer (its own keys,
without ``extends``/``include``), and the layers are merged in this order, depth first::

    profiles (in the order listed, each with its own profiles and includes first)
    < includes (in order, each with its own profiles and includes first)
    < the file itself

A file that is reached twice (a "diamond": two profiles both extending ``base``) contributes its
layer once, the first time it is reached. Re-applying ``base`` after a sibling profile changed one
of its steps would silently undo that change, which nobody wants. For a tree without diamonds this
is exactly "each profile fully resolved, then merged", and it lets a later profile's ``remove`` /
``before`` / ``after`` name a step that an earlier sibling profile added.

Merge rules (docs/dialect.md, *Profiles*): mappings deep-merge, scalars and lists are replaced,
except the step lists (``customize``, ``validate`` or its ``steps``/``inVMValidations``,
``distribute`` and their verbatim twins under ``properties``), which merge item by item by name.

Nodes are never mutated (YAML aliases share node objects): merging builds new mappings and
sequences that hold the original child nodes, so every value keeps the span (and so the file) it
came from, which is what ``aibtui config`` shows.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from pathlib import Path

from . import code_ids as C
from .diagnostics import DiagnosticBag, Span
from .nodes import Mapping, Node, Scalar, Sequence
from .records import dataclass, field
from .sources import is_within, safe_resolve

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on the compile path
if TYPE_CHECKING:
    from .session import CompileSession

PROFILE_SUFFIX = ".aib.yaml"
ENV_PROFILE_PATH = "AIBTUI_PROFILE_PATH"
MAX_DEPTH = 32  # extends/include nesting levels
MAX_FILES = 256  # distinct files read for one document

_DIRECTIVES = ("extends", "include")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^(?:https?|ftp|file|data):", re.IGNORECASE)

# Step lists that merge by name: path in the document -> kind of list.
_STEP_LISTS: dict[tuple[str, ...], str] = {
    ("customize",): "step",
    ("validate",): "step",
    ("validate", "steps"): "step",
    ("validate", "inVMValidations"): "step",
    ("distribute",): "target",
    ("properties", "customize"): "step",
    ("properties", "distribute"): "target",
    ("properties", "validate", "inVMValidations"): "step",
}
# Mappings on the way to a step list: rebuilt even when nothing is inherited, so that the
# directives (before/after/remove) of the file's own step lists are consumed too.
_CONTAINERS: frozenset[tuple[str, ...]] = frozenset({(), ("validate",), ("properties",),
                                                     ("properties", "validate")})
# Keys that mean the same thing in one mapping: writing one replaces an inherited other.
_ALIASES: dict[tuple[str, ...], tuple[frozenset[str], ...]] = {
    ("validate",): (frozenset({"steps", "inVMValidations"}),),
    ("distribute", "[]"): (frozenset({"runOutputName", "name"}),),
    ("properties", "distribute", "[]"): (frozenset({"runOutputName", "name"}),),
}
_NAME_KEYS = {"step": ("name",), "target": ("runOutputName", "name")}
_KIND_KEYS = {
    "step": frozenset({"shell", "powershell", "file", "windowsRestart", "windowsUpdate"}),
    "target": frozenset({"managedImage", "gallery", "vhd"}),
}


@dataclass(frozen=True)
class ResolveOptions:
    root: Path | None = None  # project root; None = find_project_root(top file)
    allow_outside_root: bool = False
    profile_path: tuple[Path, ...] = ()  # --profile-path dirs; AIBTUI_PROFILE_PATH is read per call
    builtin_dir: Path | None = None  # default: the installed aibtui.profiles folder
    allow_paths: tuple[Path, ...] = ()  # --allow-path dirs: more folders extends/include may read
    # caches shared by the compiles of one process run (compiler/session.py); None: ask afresh
    session: CompileSession | None = None


@dataclass
class Resolved:
    node: Mapping  # merged document; `extends` and `include` removed
    dependencies: list[str]  # absolute paths of every file read (for make depfiles)
    root: Path
    chain: list[str] = field(default_factory=list)  # profiles/includes applied, in merge order
    # every file reached through a profile: the `extends:` entry in the user's own files that led
    # to it (name, span), so findings in a library file can be shown where the user chose it
    via_profile: dict[str, tuple[str, Span]] = field(default_factory=dict)


@dataclass(frozen=True)
class ProfileInfo:
    name: str
    path: Path
    builtin: bool
    description: str | None = None


# -- locating files -------------------------------------------------------------------------------


def find_project_root(path: Path) -> Path:
    """The nearest folder at or above ``path``'s folder holding ``.git`` or ``aibtui.toml``.

    Without one, the file's own folder.
    """
    path = Path(path).absolute()
    start = safe_resolve(path if path.is_dir() else path.parent)
    folder = str(start)  # os.path, not pathlib: this runs on every compile, up to the file system root
    while True:
        if os.path.exists(os.path.join(folder, ".git")) or os.path.exists(os.path.join(folder, "aibtui.toml")):
            return Path(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            return start
        folder = parent


@functools.lru_cache(maxsize=1)
def default_builtin_dir() -> Path | None:
    """The built-in profiles: ``profiles/`` beside the compiler package (editable or installed)."""
    here = Path(__file__).resolve().parent.parent / "profiles"
    if here.is_dir():
        return here
    try:  # pragma: no cover - only for unusual installs (zip imports and the like)
        import importlib.resources

        res = importlib.resources.files("aibtui.profiles")
        candidate = Path(str(res))
        return candidate if candidate.is_dir() else None
    except (ImportError, TypeError, ValueError):
        return None


def _search_dirs(options: ResolveOptions) -> list[Path]:
    dirs = [Path(p).expanduser() for p in options.profile_path]
    env = os.environ.get(ENV_PROFILE_PATH, "")
    dirs += [Path(p).expanduser() for p in env.split(":") if p.strip()]
    return [d.absolute() for d in dirs]


def _builtin_dir(options: ResolveOptions) -> Path | None:
    return options.builtin_dir if options.builtin_dir is not None else default_builtin_dir()


def is_path_reference(entry: str) -> bool:
    """``extends`` entries with a ``/`` or a YAML suffix are paths; others are profile names."""
    return "/" in entry or "\\" in entry or entry.endswith((".yaml", ".yml"))


def _near_dir(near: Path | None) -> Path | None:
    if near is None:
        return None
    near = Path(near).absolute()
    return near if near.is_dir() else near.parent


def _name_candidates(name: str, options: ResolveOptions, near: Path | None) -> list[tuple[Path, bool]]:
    """Where a profile name is looked for, in order, with ``builtin`` flags."""
    out: list[tuple[Path, bool]] = []
    folder = _near_dir(near)
    file_name = name + PROFILE_SUFFIX
    if folder is not None:
        out += [(folder / file_name, False), (folder / "profiles" / file_name, False)]
    out += [(d / file_name, False) for d in _search_dirs(options)]
    builtin = _builtin_dir(options)
    if builtin is not None:
        out.append((builtin / file_name, True))
    return out


def find_profile(name: str, options: ResolveOptions = ResolveOptions(), near: Path | None = None) -> Path | None:
    """The file a profile name (or a path, relative to ``near``) refers to, or None."""
    if is_path_reference(name):
        folder = _near_dir(near) or Path.cwd()
        path = safe_resolve(folder / Path(name).expanduser())
        return path if path.is_file() else None
    if not name or name.startswith(".") or "\0" in name:
        return None
    for path, _builtin in _name_candidates(name, options, near):
        if os.path.isfile(path):
            return safe_resolve(path)
    return None


def _profile_files(options: ResolveOptions, near: Path | None) -> list[tuple[str, Path, bool]]:
    """Every profile visible from ``near``: (name, path, builtin), first in lookup order wins."""
    folders: list[tuple[Path, bool]] = []
    folder = _near_dir(near)
    if folder is not None:
        folders += [(folder, False), (folder / "profiles", False)]
    folders += [(d, False) for d in _search_dirs(options)]
    builtin = _builtin_dir(options)
    if builtin is not None:
        folders.append((builtin, True))
    exclude = Path(near).absolute() if near is not None and not Path(near).is_dir() else None
    seen: dict[str, tuple[str, Path, bool]] = {}
    for folder_path, is_builtin in folders:
        try:
            files = sorted(folder_path.glob("*" + PROFILE_SUFFIX))
        except OSError:
            continue
        for file in files:
            if exclude is not None and file.absolute() == exclude:
                continue
            name = file.name[: -len(PROFILE_SUFFIX)]
            if name and name not in seen and file.is_file():
                seen[name] = (name, file, is_builtin)
    return list(seen.values())


def list_profiles(options: ResolveOptions = ResolveOptions(), near: Path | None = None) -> list[ProfileInfo]:
    """Profiles visible from ``near`` (a file or folder), sorted by name; shadowed ones omitted."""
    from .yamlload import decode_text, load_yaml

    out: list[ProfileInfo] = []
    for name, path, builtin in _profile_files(options, near):
        description: str | None = None
        try:
            bag = DiagnosticBag()
            text = decode_text(path.read_bytes(), str(path), bag)
            node = load_yaml(text, str(path), bag) if text is not None else None
            if isinstance(node, Mapping):
                desc = node.items.get("description")
                if isinstance(desc, Scalar) and isinstance(desc.value, str):
                    description = desc.value.strip()
        except OSError:
            pass
        out.append(ProfileInfo(name=name, path=path, builtin=builtin, description=description))
    return sorted(out, key=lambda p: p.name)


# -- resolving ------------------------------------------------------------------------------------


def resolve_file(path: Path, diags: DiagnosticBag, options: ResolveOptions = ResolveOptions()) -> Resolved | None:
    """Load ``path`` and resolve its ``extends``/``include``. None (with diagnostics) on errors."""
    path = Path(path).absolute()
    resolver = _Resolver(diags, options, path)
    return resolver.run(path, None)


def resolve_node(node: Mapping, file: Path, diags: DiagnosticBag,
                 options: ResolveOptions = ResolveOptions()) -> Resolved | None:
    """Resolve an already-loaded document as if it were read from ``file`` (the TUI uses this)."""
    path = Path(file).absolute()
    resolver = _Resolver(diags, options, path)
    return resolver.run(path, node)


@dataclass
class _Entry:
    text: str
    span: Span


class _Resolver:
    def __init__(self, diags: DiagnosticBag, options: ResolveOptions, top: Path) -> None:
        self.diags = diags
        self.options = options
        self.session = session = options.session
        self.real = session.resolve if session is not None else safe_resolve
        if session is None:
            self.root, self.search_dirs, self.builtin, self.allowed = self._folders(top)
        else:  # the same answers for every compile of a run from the same folder and options
            key = (str(top.parent), os.getcwd(), os.environ.get(ENV_PROFILE_PATH), options.root,
                   options.profile_path, options.builtin_dir, options.allow_paths)
            known = session.folders.get(key)
            if known is None:
                known = session.folders[key] = self._folders(top)
            self.root, self.search_dirs, self.builtin, self.allowed = known
        self.dependencies: list[str] = []
        self.chain: list[str] = []
        self.applied: set[Path] = set()
        self.active: list[tuple[Path, str]] = []  # the files being resolved, with their labels
        self.via_profile: dict[str, tuple[str, Span]] = {}
        self._via: tuple[str, Span] | None = None  # the user's `extends:` entry being descended
        self.files_read = 0
        self.too_many_reported = False
        self.merger = _Merger(diags)

    def _folders(self, top: Path) -> tuple[Path, list[Path], Path | None, list[Path]]:
        """(project root, profile search dirs, built-in profile dir, the folders reads are confined to)."""
        options, session = self.options, self.session
        if options.root is not None:
            root = options.root
        else:
            root = session.project_root(top, find_project_root) if session is not None else find_project_root(top)
        real_root = self.real(Path(root).absolute())
        search_dirs = _search_dirs(options)
        builtin = _builtin_dir(options)
        # Reads are confined to these folders (symlinks resolved): the project root, the profile
        # search path, the built-in profiles and --allow-path folders (AIB290 / AIB202).
        allowed = [real_root] + [self.real(d) for d in [*search_dirs, *([builtin] if builtin else []),
                                                        *options.allow_paths]]
        return real_root, search_dirs, builtin, allowed

    def run(self, top: Path, node: Mapping | None) -> Resolved | None:
        before = len(self.diags.errors)
        key = self.real(top)
        if node is None:
            node = self._load(key, None, str(top))
            if node is None:
                return None
        else:
            self.dependencies.append(str(key))
        acc = self._visit(key, node, top.name, depth=0, acc=None)
        if len(self.diags.errors) > before:
            return None
        return Resolved(node=acc, dependencies=list(dict.fromkeys(self.dependencies)), root=self.root,
                        chain=self.chain, via_profile=self.via_profile)

    # -- one file ---------------------------------------------------------------------------------

    def _visit(self, path: Path, node: Mapping, label: str, depth: int, acc: Mapping | None) -> Mapping:
        """Apply ``node``'s profiles, includes, then ``node`` itself onto ``acc``."""
        self.applied.add(path)
        self.active.append((path, label))
        try:
            folder = path.parent
            for entry in self._entries(node, "extends"):
                target = self._locate_profile(entry, folder)
                if target is not None:
                    outer = self._via
                    if outer is None:
                        self._via = (entry.text, entry.span)
                    try:
                        acc = self._descend(target, entry, depth, acc)
                    finally:
                        self._via = outer
            for entry in self._entries(node, "include"):
                target = self._locate_include(entry, folder)
                if target is not None:
                    acc = self._descend(target, entry, depth, acc)
            own = Mapping(node.span)
            for k, v in node.items.items():
                if k not in _DIRECTIVES:
                    own.items[k] = v
                    own.key_spans[k] = node.key_spans.get(k, v.span)
            merged = self.merger.merge(acc, own, ())
            assert isinstance(merged, Mapping)
            return merged
        finally:
            self.active.pop()

    def _descend(self, target: Path, entry: _Entry, depth: int, acc: Mapping | None) -> Mapping | None:
        for i, (active_path, _label) in enumerate(self.active):
            if active_path == target:
                labels = [label for _p, label in self.active[i:]] + [entry.text]
                self.diags.add(C.AIB201, "cycle: " + " → ".join(labels), entry.span,
                               hint="a profile or fragment cannot extend or include itself, directly or not")
                return acc
        if target in self.applied:
            return acc  # reached before (a diamond): its layer is already merged
        if depth + 1 > MAX_DEPTH:
            self.diags.add(C.AIB208, f"more than {MAX_DEPTH} levels of extends/include", entry.span)
            return acc
        node = self._load(target, entry.span, entry.text)
        if node is None:
            self.applied.add(target)
            return acc
        if self._via is not None:
            self.via_profile.setdefault(str(target), self._via)
        result = self._visit(target, node, entry.text, depth + 1, acc)
        self.chain.append(str(target))
        return result

    def _entries(self, node: Mapping, key: str) -> list[_Entry]:
        value = node.items.get(key)
        if value is None:
            return []
        items: list[Node]
        if isinstance(value, Scalar) and value.value is None:
            return []
        items = value.items if isinstance(value, Sequence) else [value]
        out: list[_Entry] = []
        for item in items:
            if isinstance(item, Scalar) and isinstance(item.value, str) and item.value.strip():
                out.append(_Entry(item.value.strip(), item.span))
            else:
                self.diags.add(C.AIB204, f"each `{key}` entry must be a non-empty string (a profile name or "
                               "a path)", item.span)
        return out

    # -- finding files ----------------------------------------------------------------------------

    def _inside(self, path: Path) -> bool:
        return self.options.allow_outside_root or any(is_within(path, d) for d in self.allowed)

    def _confined(self, path: Path, entry: _Entry, key: str) -> bool:
        """False (with AIB290) when ``path`` (symlinks resolved) is outside every allowed folder.

        The file is not opened, so nothing of its content (nor whether it exists) can leak.
        """
        if self._inside(path):
            return True
        self.diags.add(C.AIB290, f"`{key}: {entry.text}` resolves to {path}, outside the folders a template may "
                       f"read (the project root {self.root} and the profile search path)", entry.span,
                       hint="move the profile into the project or a profile folder (AIBTUI_PROFILE_PATH), "
                            "or allow its folder with --allow-path DIR")
        return False

    def _locate_profile(self, entry: _Entry, folder: Path) -> Path | None:
        text = entry.text
        if _URL.match(text):
            self.diags.add(C.AIB205, f"`extends: {text}` is a URL; profiles are local files", entry.span)
            return None
        if is_path_reference(text):
            path = self.real(folder / Path(text).expanduser())
            if not self._confined(path, entry, "extends"):
                return None
            if path.is_file():
                return path
            self.diags.add(C.AIB200, f"profile file {text} not found (looked for {path})", entry.span)
            return None
        found = self.session.profiles if self.session is not None else None
        key = (text, str(folder), *map(str, self.search_dirs), str(self.builtin))
        real = found.get(key) if found is not None else None
        if real is not None and os.path.isfile(real):  # (a profile deleted meanwhile is looked for again)
            return real if self._confined(real, entry, "extends") else None
        candidates = _name_candidates(text, self.options, folder)
        if not text.startswith("."):
            for path, _builtin in candidates:
                if os.path.isfile(path):
                    real = self.real(path)
                    if found is not None:
                        found[key] = real
                    return real if self._confined(real, entry, "extends") else None
        known = sorted({name for name, _p, _b in _profile_files(self.options, folder)})
        import difflib  # lazily: only error paths need it

        close = difflib.get_close_matches(text, known, n=3, cutoff=0.6)
        hint = None
        if close:
            hint = "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"
        elif known:
            hint = "known profiles: " + ", ".join(known[:12]) + (" ..." if len(known) > 12 else "")
        looked = ", ".join(str(p) for p, _b in candidates[:3])
        self.diags.add(C.AIB200, f"profile `{text}` not found (looked in {looked}, ...)", entry.span,
                       hint=hint or "`aibtui profiles` lists the profiles; a path needs a `/` or a .yaml suffix")
        return None

    def _locate_include(self, entry: _Entry, folder: Path) -> Path | None:
        text = entry.text
        if _URL.match(text):
            self.diags.add(C.AIB205, f"`include: {text}` is a URL; only local fragments can be included",
                           entry.span)
            return None
        path = self.real(folder / Path(text).expanduser())
        if not self._inside(path):
            self.diags.add(C.AIB202, f"{text} resolves to {path}, outside the project root {self.root}",
                           entry.span, hint="keep fragments under the project root, or allow their folder with "
                                            "--allow-path DIR")
            return None
        if not path.is_file():
            what = "is a folder" if path.is_dir() else (
                "is a broken or looping symbolic link" if path.is_symlink() else "does not exist")
            self.diags.add(C.AIB203, f"included file {text} {what} (looked for {path})", entry.span)
            return None
        return path

    def _load(self, path: Path, span: Span | None, label: str) -> Mapping | None:
        from .sources import load_source, read_source

        self.files_read += 1
        if self.files_read > MAX_FILES:
            if not self.too_many_reported:
                self.too_many_reported = True
                self.diags.add(C.AIB209, f"more than {MAX_FILES} files through extends/include",
                               span or Span(str(path), 1, 1))
            return None
        self.dependencies.append(str(path))
        display = str(path)
        text = read_source(path, self.diags, span=span, label=label,
                           texts=self.session.texts if self.session is not None else None)
        if text is None:
            return None
        node = load_source(text, display, self.diags)
        if node is None:
            return None
        if not isinstance(node, Mapping):
            self.diags.add(C.AIB105, f"{label} must be a YAML mapping (key: value lines), not a "
                           f"{'list' if isinstance(node, Sequence) else 'single value'}", node.span)
            return None
        return node


# -- merging --------------------------------------------------------------------------------------


class _Link:
    __slots__ = ("node", "name", "inherited", "prev", "next")

    def __init__(self, node: Node, name: str | None, inherited: bool) -> None:
        self.node = node
        self.name = name
        self.inherited = inherited
        self.prev: _Link | None = None
        self.next: _Link | None = None


class _Chain:
    """A doubly linked list of step entries: every placement is O(1), even for long lists."""

    def __init__(self) -> None:
        self.head: _Link | None = None
        self.tail: _Link | None = None
        self.by_name: dict[str, _Link] = {}

    def append(self, link: _Link) -> None:
        link.prev, link.next = self.tail, None
        if self.tail is None:
            self.head = link
        else:
            self.tail.next = link
        self.tail = link
        self._index(link)

    def insert(self, link: _Link, anchor: _Link, before: bool) -> None:
        if before:
            link.prev, link.next = anchor.prev, anchor
            if anchor.prev is None:
                self.head = link
            else:
                anchor.prev.next = link
            anchor.prev = link
        else:
            link.prev, link.next = anchor, anchor.next
            if anchor.next is None:
                self.tail = link
            else:
                anchor.next.prev = link
            anchor.next = link
        self._index(link)

    def unlink(self, link: _Link) -> None:
        if link.prev is None:
            self.head = link.next
        else:
            link.prev.next = link.next
        if link.next is None:
            self.tail = link.prev
        else:
            link.next.prev = link.prev
        link.prev = link.next = None
        if link.name is not None and self.by_name.get(link.name) is link:
            del self.by_name[link.name]

    def _index(self, link: _Link) -> None:
        if link.name is not None and link.name not in self.by_name:
            self.by_name[link.name] = link

    def nodes(self) -> list[Node]:
        out: list[Node] = []
        link = self.head
        while link is not None:
            out.append(link.node)
            link = link.next
        return out


def _scalar_text(node: Node | None) -> str | None:
    if isinstance(node, Scalar) and node.value is not None and not isinstance(node.value, bool | list | dict):
        return str(node.value)
    return None


def _item_name(item: Node, kind: str) -> tuple[str | None, Node | None]:
    if not isinstance(item, Mapping):
        return None, None
    for key in _NAME_KEYS[kind]:
        node = item.items.get(key)
        text = _scalar_text(node)
        if text is not None:
            return text, node
    return None, None


def _kind_signature(item: Mapping, kind: str) -> frozenset[str]:
    sig = {k for k in item.items if k in _KIND_KEYS[kind]}
    type_node = item.items.get("type")
    if type_node is not None:
        sig.add("type=" + (_scalar_text(type_node) or "?").lower())
    return frozenset(sig)


class _Merger:
    def __init__(self, diags: DiagnosticBag) -> None:
        self.diags = diags

    def merge(self, base: Node | None, over: Node, path: tuple[str, ...]) -> Node:
        kind = _STEP_LISTS.get(path)
        if kind is not None and isinstance(over, Sequence):
            if path == ("validate",) and isinstance(base, Mapping):
                key = "inVMValidations" if "inVMValidations" in base.items and "steps" not in base.items \
                    else "steps"
                return self._merge_mapping(base, Mapping(over.span, {key: over}, {key: over.span}), path)
            inherited = base.items if isinstance(base, Sequence) else []
            return self._merge_list(inherited, over, kind, path)
        if isinstance(over, Mapping):
            if path == ("validate",) and isinstance(base, Sequence):
                key = "inVMValidations" if "inVMValidations" in over.items and "steps" not in over.items \
                    else "steps"
                base = Mapping(base.span, {key: base}, {key: base.span})
            if isinstance(base, Mapping):
                return self._merge_mapping(base, over, path)
            if path in _CONTAINERS:
                return self._merge_mapping(Mapping(over.span), over, path)
        return over

    def _merge_mapping(self, base: Mapping, over: Mapping, path: tuple[str, ...]) -> Mapping:
        out = Mapping(over.span, dict(base.items), dict(base.key_spans))
        groups = _ALIASES.get(path, ())
        for key, value in over.items.items():
            inherited = out.items.get(key)
            for group in groups:
                if key in group:
                    for other in group - {key}:
                        if other in out.items:
                            if inherited is None:
                                inherited = out.items[other]
                            del out.items[other]
                            out.key_spans.pop(other, None)
            child = path + (key,)
            if inherited is None:
                merged = self.merge(None, value, child) if (child in _CONTAINERS or child in _STEP_LISTS) \
                    else value
            else:
                merged = self.merge(inherited, value, child)
            out.items[key] = merged
            out.key_spans[key] = over.key_spans.get(key, value.span)
        return out

    def _merge_item(self, base: Node, over: Mapping, kind: str, path: tuple[str, ...]) -> Node:
        if not isinstance(base, Mapping):
            return over
        over_sig = _kind_signature(over, kind)
        if over_sig and over_sig != _kind_signature(base, kind):
            return over  # a different kind of step: replace the inherited one
        return self._merge_mapping(base, over, path + ("[]",))

    def _merge_list(self, inherited: list[Node], over: Sequence, kind: str, path: tuple[str, ...]) -> Sequence:
        chain = _Chain()
        for node in inherited:
            chain.append(_Link(node, _item_name(node, kind)[0], inherited=True))
        merged_names: set[str] = set()
        for item in over.items:
            if not isinstance(item, Mapping):
                chain.append(_Link(item, None, inherited=False))
                continue
            name, name_node = _item_name(item, kind)
            item, remove, place = self._directives(item, name)
            if remove:
                link = chain.by_name.get(name) if name is not None else None
                if link is None:
                    self._unknown(name, name_node or item, chain, C.AIB206,
                                  f"cannot remove `{name}`: no inherited step or target has that name")
                else:
                    chain.unlink(link)
                continue
            anchor: _Link | None = None
            if place is not None:
                where, target, target_node = place
                anchor = chain.by_name.get(target)
                if anchor is None:
                    self._unknown(target, target_node, chain, C.AIB207,
                                  f"`{where}: {target}` names no step or target before this one")
            existing = chain.by_name.get(name) if name is not None else None
            if existing is not None and existing.inherited and name not in merged_names:
                assert name is not None
                merged_names.add(name)
                existing.node = self._merge_item(existing.node, item, kind, path)
                if anchor is not None and anchor is not existing:
                    chain.unlink(existing)
                    chain.insert(existing, anchor, before=place is not None and place[0] == "before")
                continue
            link = _Link(item, name, inherited=False)
            if anchor is not None:
                chain.insert(link, anchor, before=place is not None and place[0] == "before")
            else:
                chain.append(link)
        return Sequence(over.span, chain.nodes())

    def _directives(self, item: Mapping, name: str | None
                    ) -> tuple[Mapping, bool, tuple[str, str, Node] | None]:
        """Consume ``remove``, ``before`` and ``after``: (item without them, remove, placement)."""
        present = [k for k in ("remove", "before", "after") if k in item.items]
        if not present:
            return item, False, None
        remove = False
        place: tuple[str, str, Node] | None = None
        rnode = item.items.get("remove")
        if rnode is not None:
            if isinstance(rnode, Scalar) and isinstance(rnode.value, bool):
                remove = rnode.value
            else:
                self.diags.add(C.AIB210, "`remove` must be true or false", rnode.span)
        if remove and name is None:
            self.diags.add(C.AIB210, "`remove: true` needs the `name` of the step (or `runOutputName` of the "
                           "target) to remove", rnode.span if rnode is not None else item.span)
            remove = False
        if "before" in item.items and "after" in item.items:
            self.diags.add(C.AIB210, "write either `before` or `after`, not both", item.key_spans.get(
                "after", item.span))
        for where in ("before", "after"):
            pnode = item.items.get(where)
            if pnode is None or place is not None:
                continue
            text = _scalar_text(pnode)
            if text is None:
                self.diags.add(C.AIB210, f"`{where}` must name a step (a string)", pnode.span)
                continue
            place = (where, text, pnode)
        clean = Mapping(item.span)
        for k, v in item.items.items():
            if k not in ("remove", "before", "after"):
                clean.items[k] = v
                clean.key_spans[k] = item.key_spans.get(k, v.span)
        return clean, remove, place

    def _unknown(self, name: str | None, node: Node, chain: _Chain, code: str, message: str) -> None:
        known = sorted(chain.by_name)
        import difflib  # lazily: only error paths need it

        close = difflib.get_close_matches(name or "", known, n=1, cutoff=0.6) if name else []
        if close:
            hint = f"did you mean `{close[0]}`?"
        elif known:
            hint = "names here: " + ", ".join(known[:10]) + (" ..." if len(known) > 10 else "")
        else:
            hint = "nothing is inherited here yet"
        self.diags.add(code, message, node.span, hint=hint)


def merge_documents(layers: Iterable[Mapping], diags: DiagnosticBag) -> Mapping | None:
    """Merge already-loaded layers in order (lowest first) with the profile merge rules."""
    merger = _Merger(diags)
    acc: Node | None = None
    for layer in layers:
        acc = merger.merge(acc, layer, ())
    return acc if isinstance(acc, Mapping) else None
