"""Diagnostic codes of ``aibtui import`` (AIB8xx): template JSON / ARM template -> *.aib.yaml."""

from __future__ import annotations

from .codeinfo import CodeInfo

E, W, N = "error", "warning", "note"

IMPORT_CODES: dict[str, CodeInfo] = {
    # -- refused: the file cannot become an exact *.aib.yaml -----------------------------------------
    "AIB800": CodeInfo(E, None, "this template cannot be imported exactly",
                       "the part named is built by ARM at deployment time; aibtui cannot know its value"),
    "AIB801": CodeInfo(E, None, "the ARM template holds several image templates",
                       "pass --resource NAME to pick one, or -o FOLDER to write one file per template"),
    "AIB802": CodeInfo(E, None, "no image template of that name", "the names found are listed"),
    "AIB803": CodeInfo(E, None, "an ISO source has no stable equivalent",
                       "ISO sources were removed in 2020-02-14; use a PlatformImage (for RHEL BYOS: "
                       "RedHat:rhel-byos:...) and import again"),
    "AIB804": CodeInfo(E, None, "the imported file does not compile back to the same template",
                       "`aibtui check` on the JSON shows what the template itself gets wrong; if it is valid, "
                       "please report the file"),
    # -- kept, but worth knowing --------------------------------------------------------------------
    "AIB810": CodeInfo(W, None, "ARM expression kept as an opaque string",
                       "`aibtui compile --format arm` keeps it working; resource/body output holds it verbatim"),
    "AIB811": CodeInfo(N, None, "ARM parameter or variable became a dialect variable"),
    "AIB812": CodeInfo(N, None, "placeholder became a variable to set",
                       "give it in vars: or with --set NAME=VALUE when you compile"),
    "AIB813": CodeInfo(N, None, "preview apiVersion mapped to the first stable version",
                       "the preview versions are retired; the template now says 2020-02-14 (a type written in "
                       "lower case is written as the stable version spells it)"),
    "AIB814": CodeInfo(N, None, "apiVersion without a literal value; the default version is used"),
    "AIB815": CodeInfo(W, None, "a key that is not part of the image template was dropped"),
    "AIB816": CodeInfo(W, None, "dependsOn names resources the import does not carry",
                       "deploy those resources first, or remove dependsOn from the *.aib.yaml"),
    "AIB817": CodeInfo(N, None, "a type was written in another case; written as the schema spells it"),
    "AIB818": CodeInfo(W, None, "a key the official schema of the apiVersion does not know (or a null value) "
                       "was dropped, so the imported file compiles",
                       "if the service needs it, use an apiVersion whose schema has it (`aibtui import "
                       "--api-version`)"),
    # -- compiling with the `arm:` key ----------------------------------------------------------------
    "AIB860": CodeInfo(N, None, "`arm:` is used by --format arm only; ignored for this format"),
    "AIB861": CodeInfo(E, None, "bad `arm:` section",
                       "write `arm: {parameters: {...}, variables: {...}}` with ARM's own shapes"),
}
