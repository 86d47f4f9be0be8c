"""Writes deployment-<version>.json: what `az bicep build` makes of a main.bicep that calls the AVM
image-template module three times (the module's main.json inlined as an inner-scope nested
deployment, as Bicep does). Run from this folder after updating a module copy; the outputs are
committed, tests only read them.

    module linuxBase 'br/public:avm/res/virtual-machine-images/image-template:<version>' = {...}
    module linuxScripted ...   (runs a script by URL without sha256Checksum, in customize and validate)
    module windowsBase ...

0.1.x has no validationProcess parameter, so there the scripted template has only the customize step.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
IDENTITY = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-images/providers/"
            "Microsoft.ManagedIdentity/userAssignedIdentities/id-image-builder")
GALLERY = ("/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-images/providers/"
           "Microsoft.Compute/galleries/gal_images/images/{}")


def module_call(name: str, module: dict, params: dict) -> dict:
    declared = module["parameters"]
    passed = {k: {"value": v} for k, v in params.items() if k in declared}
    return {
        "type": "Microsoft.Resources/deployments",
        "apiVersion": "2022-09-01",
        "name": name,
        "properties": {
            "expressionEvaluationOptions": {"scope": "inner"},
            "mode": "Incremental",
            "parameters": passed,
            "template": module,
        },
    }


def deployment(version: str) -> dict:
    module = json.loads((HERE / version / "main.json").read_text())
    common = {
        "location": "[parameters('location')]",
        "enableTelemetry": False,
        "managedIdentities": {"userAssignedResourceIds": ["[parameters('identityResourceId')]"]},
    }
    linux = {"type": "PlatformImage", "publisher": "canonical", "offer": "ubuntu-24_04-lts",
             "sku": "server", "version": "latest"}
    windows = {"type": "PlatformImage", "publisher": "MicrosoftWindowsServer", "offer": "WindowsServer",
               "sku": "2022-datacenter-azure-edition", "version": "latest"}
    base = dict(common, name="it-linux-base", imageSource=linux,
                customizationSteps=[{"type": "Shell", "name": "update", "inline": ["sudo apt-get update -y"]}],
                distributions=[{"type": "SharedImage",
                                "sharedImageGalleryImageDefinitionResourceId": GALLERY.format("ubuntu-base")}])
    scripted = dict(common, name="it-linux-scripted", imageSource=linux,
                    customizationSteps=[{"type": "Shell", "name": "setup",
                                         "scriptUri": "https://raw.githubusercontent.com/contoso/images/main/setup.sh"}],
                    validationProcess={"inVMValidations": [{"type": "Shell", "name": "smoke-test",
                                                            "scriptUri": "[parameters('validationScriptUri')]"}]},
                    distributions=[{"type": "SharedImage",
                                    "sharedImageGalleryImageDefinitionResourceId": GALLERY.format("ubuntu-app")}])
    win = dict(common, name="it-windows-base", imageSource=windows,
               customizationSteps=[{"type": "PowerShell", "name": "features", "runElevated": True,
                                    "inline": ["Install-WindowsFeature -Name Web-Server"]},
                                   {"type": "WindowsRestart", "name": "restart", "restartTimeout": "10m"}],
               distributions=[{"type": "SharedImage",
                               "sharedImageGalleryImageDefinitionResourceId": GALLERY.format("windows-base")}])
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
            "identityResourceId": {"type": "string"},
            "validationScriptUri": {"type": "string"},
        },
        "resources": [module_call("linuxBase", module, base), module_call("linuxScripted", module, scripted),
                      module_call("windowsBase", module, win)],
    }


def main() -> None:
    for folder in sorted(p for p in HERE.iterdir() if (p / "main.json").is_file()):
        out = HERE / f"deployment-{folder.name}.json"
        out.write_text(json.dumps(deployment(folder.name), indent=2) + "\n")


if __name__ == "__main__":
    main()
