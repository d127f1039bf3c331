"""Switches for what no public source settles about real HCX (docs/hcx-wire.md, "unconfirmed").

Where the sources disagree or are silent, the portal's client must cope with every plausible shape,
and the simulator answers in whichever one a switch picks, so that a test proves the client copes
with each. A switch is named here once, with its values (the first is the default) and what each
value means; the code that answers reads `sim.variant("name")`.

Set them at start (`--variant name=value`, repeatable), per test (`POST /__sim__/variants
{"name": "value"}`, or `"variants"` in `POST /__sim__/reset`), read them with `GET /__sim__/variants`.
A reset goes back to the values given at start, so that one test's switch never leaks into the next.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    values: tuple[str, ...]
    meaning: str

    @property
    def default(self) -> str:
        return self.values[0]


VARIANTS: dict[str, Variant] = {
    "hcx_version": Variant(
        ("4.x", "9.x"),
        "4.x: service meshes of PHOTON appliances, no automatic mesh. 9.x: new meshes are EDGE meshes of "
        "HCX-WAN-IX-EDGE appliances, a legacy PHOTON request is refused, and an automatic "
        "default-service-mesh-* shows with state NOT_APPLICABLE (hcx-wire.md, HCX 9.x)."),
    # --- appliance API set-up and login (hcx-wire.md sections 1 and 2) ---
    "untrusted_certificate_answer": Variant(
        ("data", "errors", "message_only"),
        "How POST :9443 .../vcenter or .../lookupservice refuses a server whose certificate HCX does not "
        "trust (HTTP 400). data: {isSuccess:false, message:'Untrusted SSL connection', data:[{certificate}]} "
        "(field notes of 9.1.1). errors: the 443 envelope {success:false, errors:[{error, text, "
        "data:[{certificate}]}]}, as the site pairing answers. message_only: the documented ErrorResponse "
        "{isSuccess, message, httpStatusCode} with no certificate (the client fetches it from the server)."),
    "licenses_before_activation": Variant(
        ("none", "evaluation", "vcf"),
        "What GET :9443/api/admin/licenses lists before an activation key is entered. none: an empty list. "
        "evaluation: one EVALUATION_MODE licence (seen on 9.1.1). vcf: a VCF licence HCX took from "
        "vCenter (HCX 4.9+). Both stay listed beside the key's licence after an activation."),
    "trusted_roots_status": Variant(
        ("500", "401"),
        "The HTTP status of the XML answer \"'Trusted root certificates' value should not be empty\" "
        "that POST /hybridity/api/sessions gives for a while after the app engine restarts (Terraform "
        "retries any non-200/202 answer carrying it)."),
}


class VariantError(ValueError):
    pass


def parse(pairs) -> dict[str, str]:
    """`["name=value", ...]` (the command line) as a checked dict."""
    chosen = {}
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        if not sep:
            raise VariantError(f"--variant takes name=value, not {pair!r}")
        chosen[name.strip()] = value.strip()
    return check(chosen)


def check(chosen) -> dict[str, str]:
    if not isinstance(chosen, dict):
        raise VariantError("variants must be an object of name: value")
    for name, value in chosen.items():
        if name not in VARIANTS:
            raise VariantError(f"unknown variant {name!r}; known: {', '.join(sorted(VARIANTS))}")
        if value not in VARIANTS[name].values:
            raise VariantError(f"variant {name} must be one of {', '.join(VARIANTS[name].values)}, not {value!r}")
    return dict(chosen)


def resolved(chosen: dict[str, str]) -> dict[str, str]:
    """Every variant with its value: the chosen ones, the defaults for the rest."""
    return {name: chosen.get(name, v.default) for name, v in VARIANTS.items()}


def describe(current: dict[str, str]) -> dict:
    return {name: {"value": current[name], "values": list(v.values), "meaning": v.meaning}
            for name, v in VARIANTS.items()}
