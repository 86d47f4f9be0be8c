"""SH-03: Linux inline commands that need root without sudo; plus two lints on the same reading:
package installs that wait for a confirmation (AIB604) and `sudo cmd > /etc/x` (AIB606)."""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Mapping
from types import MappingProxyType

from .. import code_ids as C
from .context import RuleContext, Step, as_list
from .shellcmd import Command, commands


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_APT = _words("install update upgrade dist-upgrade full-upgrade remove purge autoremove reinstall")
_YUM = _words(
    "install update upgrade remove erase reinstall downgrade autoremove makecache clean groupinstall group "
    "module distro-sync swap localinstall config-manager"
)
_ZYPPER = _words("install in update up dup dist-upgrade remove rm refresh ref addrepo ar patch removerepo rr")
# Package managers and the subcommands that change the system (systemctl: all but the read-only ones).
_PKG_WRITE: Mapping[str, frozenset[str] | None] = MappingProxyType(
    {
        "apt-get": _APT | _words("autoclean clean build-dep"),
        "apt": _APT,
        "aptitude": _words("install update upgrade safe-upgrade full-upgrade remove purge"),
        "yum": _YUM,
        "dnf": _YUM,
        "tdnf": _YUM,
        "microdnf": _YUM,
        "zypper": _ZYPPER,
        "snap": _words("install remove refresh"),
        "systemctl": None,
    }
)
_SYSTEMCTL_READ = _words(
    "status is-active is-enabled is-failed show cat list-units list-unit-files list-timers list-dependencies "
    "help --version get-default"
)
_YUM_CONFIRM = _words(
    "install update upgrade remove erase reinstall downgrade autoremove groupinstall localinstall distro-sync"
)
# Package managers and subcommands that ask "Do you want to continue? [Y/n]".
_CONFIRMING: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "apt-get": _APT - {"update"} | {"build-dep"},
        "apt": _APT - {"update"},
        "yum": _YUM_CONFIRM,
        "dnf": _YUM_CONFIRM,
        "tdnf": _YUM_CONFIRM,
        "zypper": _words("install in update up dup dist-upgrade remove rm patch"),
    }
)
_YES_FLAGS = _words("-y --yes --assume-yes --assumeyes -n --non-interactive --no-confirm --noconfirm")
# apt-get(8): quiet level 2 (`-qq`, `-q=2`) implies -y.
_APT_QUIET2 = _words("-qq -q=2 --quiet=2 -qqq")
_ALWAYS_ROOT = _words(
    "service useradd usermod userdel groupadd groupdel groupmod gpasswd chpasswd visudo mount umount "
    "modprobe "
    "rmmod insmod update-grub grub-mkconfig grub2-mkconfig update-initramfs dracut ufw firewall-cmd iptables "
    "ip6tables nft setenforce semanage setsebool swapon swapoff mkswap fdisk parted sgdisk "
    "update-ca-certificates update-ca-trust locale-gen update-locale debconf-set-selections "
    "add-apt-repository apt-key waagent reboot poweroff halt ldconfig chroot a2enmod a2dismod a2ensite "
    "a2dissite dpkg-reconfigure rpm-ostree growpart resize2fs xfs_growfs"
)
_SET_SUBCOMMANDS = _words("hostnamectl timedatectl localectl")  # their set-* subcommands
_WRITERS_ANY_ARG = _words("mkdir rm rmdir touch chmod chown chgrp truncate tee")
_WRITERS_LAST_ARG = _words("cp mv install ln rsync")
_WRITERS_OPTION: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "curl": ("-o", "--output"),
        "wget": ("-O", "-P", "--output-document", "--directory-prefix"),
        "tar": ("-C", "--directory"),
        "unzip": ("-d",),
    }
)
_PROTECTED = ("/etc", "/usr", "/opt", "/boot", "/root", "/lib", "/lib64", "/bin", "/sbin", "/srv", "/var")
_WORLD_WRITABLE = ("/var/tmp", "/dev/null", "/dev/stdout", "/dev/stderr", "/tmp")


_NAMES = frozenset(
    {*_PKG_WRITE, "dpkg", "rpm", *_ALWAYS_ROOT, *_SET_SUBCOMMANDS, "sysctl", "sed", *_WRITERS_ANY_ARG}
    | {*_WRITERS_LAST_ARG, *_WRITERS_OPTION, "mkfs", "mkfs.ext4", "mkfs.xfs", "mkfs.btrfs", "mkfs.vfat"}
)
_TOKEN = re.compile(r"[A-Za-z][\w.+-]*")


class _Relevant:
    """Cheap line filter for shellcmd.commands: a redirection, or a word naming a command we check."""

    @staticmethod
    def search(line: str) -> bool:
        return ">" in line or not _NAMES.isdisjoint(_TOKEN.findall(line))


_RELEVANT = _Relevant()


def _under(norm: str, folders: tuple[str, ...] | list[str]) -> bool:
    return any(norm == f or norm.startswith(f + "/") for f in folders)


def _protected(path: str, handed_over: list[str] | None = None) -> bool:
    """A root-owned system path, unless an earlier command of the step gave it to the build user."""
    if not path.startswith("/"):
        return False
    norm = posixpath.normpath(path)
    if _under(norm, _WORLD_WRITABLE) or (handed_over and _under(norm, handed_over)):
        return False
    return _under(norm, _PROTECTED)


_OPEN_MODE = re.compile(r"^(?:[0-7]?[0-7][0-7]7|(?:[ugoa]*[+=][rwxX]*w[rwxX]*,?)+)$")


def _hands_over(cmd: Command) -> list[str]:
    """Paths that ``cmd`` gives to a non-root user (`sudo chown -R me /opt/app`, `chmod 777 /opt/x`):
    later commands of the same step may write under them without sudo."""
    prog = posixpath.basename(cmd.words[0])
    args = _args(cmd.words)
    if prog in ("chown", "chgrp") and len(args) >= 2:
        owner = args[0].split(":")[0].split(".")[0]
        if prog == "chown" and owner in ("root", "0", ""):
            return []
        return [posixpath.normpath(a) for a in args[1:] if a.startswith("/")]
    if prog == "chmod" and len(args) >= 2 and _OPEN_MODE.match(args[0]):
        return [posixpath.normpath(a) for a in args[1:] if a.startswith("/")]
    return []


def _args(words: tuple[str, ...]) -> list[str]:
    return [w for w in words[1:] if not w.startswith("-")]


def _needs_root(cmd: Command, handed_over: list[str]) -> str | None:
    """Why ``cmd`` needs root (a short phrase), or None."""
    words = cmd.words
    prog = posixpath.basename(words[0])
    args = _args(words)
    sub = args[0] if args else ""
    if prog in _PKG_WRITE:
        allowed = _PKG_WRITE[prog]
        if prog == "systemctl":
            if "--user" in words or sub in _SYSTEMCTL_READ or not sub:
                return None
            return f"systemctl {sub}"
        if allowed is not None and sub in allowed:
            return f"{prog} {sub}"
        return None
    if prog in ("dpkg", "rpm"):
        flags = {w for w in words[1:] if w.startswith("-")}
        if prog == "dpkg" and flags & {"-i", "--install", "-r", "--remove", "-P", "--purge", "--configure"}:
            return "dpkg " + sorted(flags)[0]
        if prog == "rpm" and any(
            f.startswith(("-i", "-U", "-F", "-e", "--import", "--install", "--upgrade")) for f in flags
        ):
            return "rpm " + sorted(flags)[0]
        return None
    if prog in _ALWAYS_ROOT or prog.startswith("mkfs"):
        return prog
    if prog in _SET_SUBCOMMANDS and sub.startswith("set-"):
        return f"{prog} {sub}"
    if prog == "sysctl" and any(w in ("-w", "-p", "--system", "--load") for w in words[1:]):
        return "sysctl " + next(w for w in words[1:] if w in ("-w", "-p", "--system", "--load"))
    if prog == "sed" and not any(w.startswith("-i") or w.startswith("--in-place") for w in words[1:]):
        return None
    targets: list[str] = []
    if prog in _WRITERS_ANY_ARG or prog == "sed":
        targets = args
    elif prog in _WRITERS_LAST_ARG and len(args) >= 2:
        targets = args[-1:]
    elif prog in _WRITERS_OPTION:
        opts = _WRITERS_OPTION[prog]
        for i, w in enumerate(words[:-1]):
            if w in opts:
                targets.append(words[i + 1])
    for target in targets:
        if _protected(target, handed_over):
            return f"{prog} writing {target}"
    return None


def check_root_commands(ctx: RuleContext, step: Step) -> None:
    lines = as_list(step.body.get("inline"))
    if not lines:
        return
    if all(isinstance(line, str) for line in lines):
        found = _findings_memo(tuple(lines))  # the same commands recur across templates and profiles
    else:
        found = _findings(lines)
    for code, index, message, hint in found:
        ctx.report(code, message, step.path + ("inline", index), hint=hint)


_Finding = tuple[str, int, str, "str | None"]


@functools.lru_cache(maxsize=2048)
def _findings_memo(lines: tuple[str, ...]) -> tuple[_Finding, ...]:
    return _findings(list(lines))


def _findings(lines: list[object]) -> tuple[_Finding, ...]:
    """(code, inline index, message, hint) for every finding in an inline list: a pure function."""
    out: list[_Finding] = []
    reported: set[tuple[str, int]] = set()
    handed_over: list[str] = []
    for cmd in commands(lines, _RELEVANT):
        if not cmd.sudo and (C.AIB057, cmd.index) not in reported:
            why = _needs_root(cmd, handed_over)
            hint = f"write: sudo {cmd.text}"
            if why is None:
                target = next((t for t in cmd.redirects if _protected(t, handed_over)), None)
                if target is not None:
                    why = f"writing {target}"
                    hint = f"pipe into sudo tee instead: ... | sudo tee {target} (tee -a appends)"
            if why is not None:
                reported.add((C.AIB057, cmd.index))
                out.append((C.AIB057, cmd.index, f"{cmd.text!r} needs root ({why}) but does not use sudo", hint))
        if cmd.sudo and (C.AIB606, cmd.index) not in reported:
            target = next((t for t in cmd.redirects if _protected(t)), None)
            if target is not None:
                reported.add((C.AIB606, cmd.index))
                out.append((C.AIB606, cmd.index, f"in {cmd.text!r} the redirection to {target} runs without sudo",
                            None))
        _confirm(out, cmd, reported)
        handed_over += _hands_over(cmd)
    return tuple(out)


def _confirm(out: list[_Finding], cmd: Command, reported: set[tuple[str, int]]) -> None:
    prog = posixpath.basename(cmd.words[0])
    subs = _CONFIRMING.get(prog)
    args = _args(cmd.words)
    if not subs or not args or args[0] not in subs or (C.AIB604, cmd.index) in reported:
        return
    for w in cmd.words[1:]:
        if prog in ("apt-get", "apt") and w in _APT_QUIET2:
            return
        if w in _YES_FLAGS or (w.startswith("-") and not w.startswith("--") and "y" in w[1:]):
            return
        if w.startswith("--assume-yes") or w.startswith("-oAPT::Get::Assume-Yes"):
            return
    reported.add((C.AIB604, cmd.index))
    flag = "--non-interactive" if prog == "zypper" else "-y"
    out.append((C.AIB604, cmd.index, f"{cmd.text!r} may stop at a confirmation prompt",
                f"add {flag}: a prompt waits until the build times out"))
