"""Local builds: run a Linux template's steps for real, in a disposable sandboxed root filesystem.

- :mod:`.model`     options, the run plan, the exceptions a build stops with
- :mod:`.sandbox`   bubblewrap or unshare + pivot_root backends; streaming a command; killing its whole tree
- :mod:`.rootfs`    where the base root filesystem comes from; cache, verified downloads, local image
                    catalog, the busybox test rootfs
- :mod:`.steps`     Shell, PowerShell (pwsh), File, validation and deprovision steps
- :mod:`.artifacts` the customized rootfs as a tarball, and a VHD made from it
- :mod:`.build`     one build from start to artifacts, reporting through callbacks

The service's runner (``aibtui.service.runner``) decides per run whether it can execute for real
(a Linux template, a root filesystem, a sandbox) and otherwise simulates, saying why. Nothing here
ever runs a step on the host. See docs/local-service.md, "Local builds".
"""
