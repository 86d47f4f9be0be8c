"""Diagnostic codes for the seed-document rules (AIB0xx) and extra lint warnings (AIB6xx).

Each entry: severity, the seed rule id of shared/seed/REQUIREMENTS.md, a one-line title, and a
default hint. Codes are stable: never renumber, only add. docs/rules.md lists them all.
"""

from __future__ import annotations

from .codeinfo import CodeInfo

E, W, N = "error", "warning", "note"

RULE_CODES: dict[str, CodeInfo] = {
    # -- template skeleton, location, tags, dependsOn ---------------------------------------------
    "AIB001": CodeInfo(
        E,
        "S-01",
        "resource type is not Microsoft.VirtualMachineImages/imageTemplates",
        'set "type": "Microsoft.VirtualMachineImages/imageTemplates"',
    ),
    "AIB002": CodeInfo(
        N,
        "S-02",
        "apiVersion 2020-02-14 is the seed's (oldest stable) version",
        "use a later stable apiVersion (2024-02-01 is the default) for Gen2 sources, "
        "validation, targetRegions and more",
    ),
    "AIB005": CodeInfo(
        W,
        "L-01",
        "unknown Azure region",
        "use a region name as `az account list-locations -o table` prints it, e.g. westus2",
    ),
    "AIB008": CodeInfo(
        E,
        "T-01",
        "tags exceed Azure's limits",
        "Azure allows 50 tags per resource, names up to 512 characters (without < > % & \\ ? /) "
        "and values up to 256 characters",
    ),
    "AIB009": CodeInfo(
        E,
        "D-01",
        "dependsOn entry is not a resource name, id or expression",
        "list resource ids, names, or expressions such as "
        "\"[resourceId('Microsoft.Compute/galleries', 'g')]\"",
    ),
    # -- vmProfile ----------------------------------------------------------------------------
    "AIB010": CodeInfo(
        W,
        "V-01",
        "vmSize does not look like an Azure VM size",
        "write the size's full name, e.g. Standard_D2s_v3 (`az vm list-sizes -l REGION`)",
    ),
    "AIB011": CodeInfo(
        W,
        "V-02",
        "osDiskSizeGB is implausible",
        "use 0 for the source image's size, or a size in GB at least as large as the source's "
        "OS disk (it can only grow) and at most 4095",
    ),
    "AIB012": CodeInfo(
        E,
        "V-03",
        "subnet id is not a full subnet resource id",
        "write /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/"
        "VNET/subnets/SUBNET",
    ),
    # -- identity -----------------------------------------------------------------------------
    "AIB020": CodeInfo(
        E,
        "I-01",
        "the image template needs a user-assigned identity",
        "add identity: {type: UserAssigned, userAssignedIdentities: {IDENTITY_ID: {}}}",
    ),
    "AIB021": CodeInfo(
        E,
        "I-02",
        "exactly one user-assigned identity is supported",
        "keep one identity; give it the roles the others had",
    ),
    "AIB022": CodeInfo(E, "I-04", "identity type must be UserAssigned", "set identity.type to UserAssigned"),
    "AIB023": CodeInfo(
        E,
        "I-04",
        "identity is not a userAssignedIdentities resource id",
        "write /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.ManagedIdentity/"
        "userAssignedIdentities/NAME",
    ),
    # -- source -------------------------------------------------------------------------------
    "AIB030": CodeInfo(
        W,
        "SRC-01",
        "Hyper-V generation 2 source with apiVersion 2020-02-14",
        "use apiVersion 2021-10-01 or later for a Gen2 source, or pick a Gen1 image",
    ),
    "AIB031": CodeInfo(
        E,
        "SRC-02",
        "PlatformImage source lacks publisher, offer, sku or version",
        "give all four, e.g. `source: Canonical:ubuntu-24_04-lts:server:latest`",
    ),
    "AIB032": CodeInfo(
        W,
        "SRC-02",
        "PlatformImage version is neither 'latest' nor Major.Minor.Build",
        "use latest (resolved at build time) or an exact version from `az vm image list --all`",
    ),
    "AIB033": CodeInfo(
        E,
        "SRC-03",
        "planInfo value is empty",
        "give planName, planProduct and planPublisher (`az vm image show --urn ...` prints the plan)",
    ),
    "AIB034": CodeInfo(
        E,
        "SRC-04",
        "ManagedImage source imageId is not a managed image resource id",
        "write /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Compute/images/NAME",
    ),
    "AIB035": CodeInfo(
        E,
        "SRC-05",
        "SharedImageVersion source is not a gallery image version id",
        "write /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Compute/galleries/G/"
        "images/DEF/versions/X.Y.Z (or .../versions/latest)",
    ),
    "AIB036": CodeInfo(
        E,
        "SRC-05",
        "the seed's spelling imageVersionID is not the wire name",
        "rename the key to imageVersionId",
    ),
    # -- build timeout --------------------------------------------------------------------------
    "AIB040": CodeInfo(
        N,
        "B-01",
        "buildTimeoutInMinutes 0 means the default, 240 minutes",
        "omit it, or give the minutes you need (up to 960)",
    ),
    "AIB041": CodeInfo(
        W,
        "B-03",
        "build timeout below 60 minutes on Windows",
        "Windows builds (Sysprep, updates, restarts) rarely finish in under an hour; use 60 or more",
    ),
    # -- customize / validate (general) -------------------------------------------------------------
    "AIB050": CodeInfo(
        W,
        "C-01",
        "two steps share a name",
        "give every step a unique name so logs and run output point at one step",
    ),
    "AIB051": CodeInfo(W, "C-01", "step has no name", "add a short, unique `name`"),
    "AIB052": CodeInfo(
        E,
        "C-04",
        "script or file URI is not an http(s) URL the build VM can fetch",
        "upload the file to Azure Storage or GitHub and give its https URL; in *.aib.yaml a local "
        "script can be inlined with `script: PATH`",
    ),
    "AIB053": CodeInfo(
        W,
        "C-05",
        "inline command looks like it holds a secret",
        "inline commands are stored in the template and visible to support; move the secret to "
        "Key Vault or a script in storage read with the managed identity",
    ),
    # -- Shell / PowerShell ----------------------------------------------------------------------
    "AIB054": CodeInfo(
        E,
        "SH-01",
        "a Shell or PowerShell step needs exactly one of scriptUri or inline",
        "keep either scriptUri (a remote script) or inline (a list of commands)",
    ),
    "AIB055": CodeInfo(
        E,
        "SH-02",
        "sha256Checksum is not 64 hexadecimal characters",
        "compute it with `sha256sum FILE` (Linux) or `Get-FileHash FILE` (PowerShell)",
    ),
    "AIB056": CodeInfo(
        W,
        "SH-02",
        "sha256Checksum has nothing to check",
        "the checksum applies to scriptUri/sourceUri only; remove it from an inline step",
    ),
    "AIB057": CodeInfo(
        W,
        "SH-03",
        "command needs root but is not run with sudo",
        "Shell steps run as a non-root user: prefix the command with sudo",
    ),
    "AIB058": CodeInfo(E, "SH-04", "Shell step in a Windows image", "use a PowerShell step on Windows"),
    # -- WindowsRestart / PowerShell options / WindowsUpdate --------------------------------------
    "AIB060": CodeInfo(
        E,
        "WR-01",
        "WindowsRestart step in a Linux image",
        "there is no Linux restart customizer (WR-02): reboot from a Shell step, e.g. "
        "`sudo shutdown -r +1`, within the 20-minute SSH timeout",
    ),
    "AIB061": CodeInfo(
        E,
        "WR-01",
        "restartTimeout is not a magnitude and unit",
        "write a duration such as 5m, 10m, 2h or 1h30m",
    ),
    "AIB062": CodeInfo(
        W,
        "PS-01",
        "validExitCodes leaves out success",
        "list 0 too: with validExitCodes set, only the listed codes count as success",
    ),
    "AIB063": CodeInfo(
        E,
        "PS-01",
        "runAsSystem needs runElevated",
        "set runElevated: true as well (runAsSystem elevates to Local System)",
    ),
    "AIB064": CodeInfo(
        E,
        "PS-01",
        "validExitCodes entry is not a valid exit code",
        "exit codes are 32-bit integers (e.g. 0, 1, 3010)",
    ),
    "AIB065": CodeInfo(
        E,
        "WU-01",
        "WindowsUpdate step in a Linux image",
        "update packages from a Shell step (`sudo apt-get -y upgrade`, `sudo dnf -y upgrade`)",
    ),
    "AIB066": CodeInfo(
        W,
        "WU-01",
        "WindowsUpdate filter has no include:/exclude: prefix",
        'write filters as "exclude:$_.Title -like \'*Preview*\'" or "include:$true"',
    ),
    "AIB067": CodeInfo(
        W,
        "WU-02",
        "WindowsUpdate does not follow a restart or a pause",
        "put a WindowsRestart step (or a PowerShell `Start-Sleep`) right before it; a pending "
        "restart or a running install makes it fail with 0x80240016",
    ),
    # -- File -------------------------------------------------------------------------------------
    "AIB070": CodeInfo(
        E,
        "F-01",
        "File step lacks sourceUri or destination",
        "give sourceUri (an https URL) and destination (a full path and file name)",
    ),
    "AIB071": CodeInfo(
        E,
        "F-01",
        "File sourceUri names a directory",
        "the File customizer downloads one file: zip the directory, download the archive and "
        "unpack it in a Shell or PowerShell step",
    ),
    "AIB072": CodeInfo(
        E,
        "F-03",
        "File destination on Linux is outside /tmp",
        "on Linux Image Builder can only write under /tmp; copy the file onwards with a Shell "
        "step (`sudo mv /tmp/x /etc/x`)",
    ),
    "AIB073": CodeInfo(
        E,
        "F-03",
        "File destination on Windows is not an absolute path",
        "write a full path such as C:\\buildArtifacts\\app.zip (the folder must exist)",
    ),
    "AIB074": CodeInfo(
        E,
        "F-01",
        "File destination is a directory, not a file name",
        "end the destination with the file name, e.g. /tmp/app.conf",
    ),
    # -- generalize ---------------------------------------------------------------------------
    "AIB079": CodeInfo(
        W,
        "G-05",
        "a Hyper-V role image without a deprovisioning override",
        "Sysprep of a Hyper-V host may need `/mode:vm`, which only an override can pass: write "
        "c:\\DeprovisioningScript.ps1 in a File or PowerShell step",
    ),
    "AIB078": CodeInfo(
        W,
        "G-04",
        "deprovisioning override has the wrong path or file name",
        "the override is read only from /tmp/DeprovisioningScript.sh (Linux) or "
        "c:\\DeprovisioningScript.ps1 (Windows), spelt exactly so",
    ),
    # -- distribute -----------------------------------------------------------------------------
    "AIB080": CodeInfo(
        E, "DI-01", "no distribution target", "add a ManagedImage, SharedImage or VHD target under distribute"
    ),
    "AIB081": CodeInfo(
        E, "DI-02", "runOutputName is used twice", "give each distribution target its own runOutputName"
    ),
    "AIB082": CodeInfo(
        E,
        "DI-03",
        "ManagedImage imageId is not a managed image resource id",
        "write /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Compute/images/NAME",
    ),
    "AIB083": CodeInfo(
        E,
        "DI-03",
        "ManagedImage target has an empty location",
        "give the region the image is created in, e.g. the template's location",
    ),
    "AIB084": CodeInfo(
        E,
        "DI-04",
        "galleryImageId is not an image definition or version id",
        "write /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Compute/galleries/G/"
        "images/DEF (automatic versions) or .../images/DEF/versions/X.Y.Z",
    ),
    "AIB085": CodeInfo(
        E,
        "DI-04",
        "storageAccountType not available in this apiVersion",
        "Premium_LRS needs apiVersion 2022-07-01 or later; use Standard_LRS or Standard_ZRS",
    ),
    "AIB086": CodeInfo(
        W,
        "DI-04",
        "a replication region is listed twice",
        "list each region once (targetRegions sets replicaCount per region)",
    ),
    "AIB087": CodeInfo(
        E,
        "DI-04",
        "replicationRegions and targetRegions are both set",
        "keep targetRegions (replicationRegions is deprecated since 2022-07-01)",
    ),
    "AIB088": CodeInfo(
        W, "DI-04", "the replication region list is empty", "list at least the gallery's region"
    ),
    "AIB089": CodeInfo(
        E,
        "DI-04",
        "gallery image version is not Major.Minor.Patch",
        "name the version with three integers, e.g. 1.0.0",
    ),
    "AIB090": CodeInfo(
        N,
        "DI-05",
        "the image is distributed to another region than the template's",
        "a different region means a longer build; build in the image's region when you can",
    ),
    "AIB091": CodeInfo(
        N,
        "DI-06",
        "the VHD stays in the staging resource group",
        "copy the run output's artifactUri away soon: deleting the template deletes the VHD",
    ),
    # -- extra lint (beyond the seed) ---------------------------------------------------------------
    "AIB600": CodeInfo(
        W,
        None,
        "external script or file without sha256Checksum",
        "pin the content: add sha256Checksum (`sha256sum FILE`), or in *.aib.yaml name a "
        "local copy with `local:` and it is computed for you",
    ),
    "AIB601": CodeInfo(
        W,
        None,
        "GitHub 'blob' URL points at an HTML page, not the file",
        "use the raw form https://raw.githubusercontent.com/OWNER/REPO/REF/PATH",
    ),
    "AIB602": CodeInfo(
        W,
        None,
        "unfilled <placeholder> left in the template",
        "replace the placeholder with a real value (or a `{{ variable }}` in *.aib.yaml)",
    ),
    "AIB603": CodeInfo(
        W,
        None,
        "script or file fetched over plain http",
        "use https so the download cannot be tampered with on the way",
    ),
    "AIB604": CodeInfo(
        W,
        None,
        "package install may wait for a confirmation",
        "add -y (apt-get, yum, dnf) or --non-interactive (zypper): a prompt hangs the build "
        "until it times out",
    ),
    "AIB605": CodeInfo(
        W,
        None,
        "step restarts Windows by itself",
        "use a WindowsRestart step instead: it waits for the VM to come back",
    ),
    "AIB606": CodeInfo(
        W,
        None,
        "sudo does not apply to a shell redirection",
        "`sudo cmd > /etc/x` opens the file as the non-root user; write `cmd | sudo tee /etc/x`",
    ),
}
