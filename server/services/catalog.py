"""What each issuer offers: credential configurations, `vct`s and display names in Vietnamese and English."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from server.errors import NotFoundError
from shared.credentials import VCT_BY_TYPE

ISSUER_NAMES = {
    "mps": {"vi": "Bộ Công an (C06)", "en": "Ministry of Public Security (C06)"},
    "vss": {"vi": "Bảo hiểm xã hội Việt Nam", "en": "Vietnam Social Security"},
}

CONFIGURATIONS_BY_ISSUER: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"mps": ("identity",), "vss": ("health_insurance", "social_insurance")}
)

CREDENTIAL_NAMES = {
    "identity": {"vi": "Căn cước điện tử", "en": "Electronic identity"},
    "health_insurance": {"vi": "Thẻ bảo hiểm y tế", "en": "Health insurance card"},
    "social_insurance": {"vi": "Sổ bảo hiểm xã hội", "en": "Social insurance book"},
}

CLAIM_NAMES: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "identity": {
        "citizen_id": ("Số định danh cá nhân", "Personal identification number"),
        "full_name": ("Họ, chữ đệm và tên", "Full name"),
        "birth_date": ("Ngày sinh", "Date of birth"),
        "sex": ("Giới tính", "Sex"),
        "nationality": ("Quốc tịch", "Nationality"),
        "place_of_origin": ("Quê quán", "Place of origin"),
        "place_of_residence": ("Nơi thường trú", "Place of residence"),
        "portrait": ("Ảnh chân dung", "Portrait"),
        "issue_date": ("Ngày cấp", "Date of issue"),
        "age_over_16": ("Đủ 16 tuổi", "Aged 16 or over"),
        "age_over_18": ("Đủ 18 tuổi", "Aged 18 or over"),
        "age_over_65": ("Đủ 65 tuổi", "Aged 65 or over"),
    },
    "health_insurance": {
        "card_number": ("Mã thẻ BHYT", "Health insurance card number"),
        "social_insurance_number": ("Mã số BHXH", "Social insurance number"),
        "citizen_id": ("Số định danh cá nhân", "Personal identification number"),
        "full_name": ("Họ và tên", "Full name"),
        "birth_date": ("Ngày sinh", "Date of birth"),
        "beneficiary_group": ("Nhóm đối tượng", "Beneficiary group"),
        "benefit_level": ("Mức hưởng", "Benefit level"),
        "province_code": ("Mã tỉnh", "Province code"),
        "registered_facility": ("Nơi đăng ký KCB ban đầu", "Registered primary care facility"),
        "valid_from": ("Giá trị sử dụng từ", "Valid from"),
        "valid_until": ("Giá trị sử dụng đến", "Valid until"),
    },
    "social_insurance": {
        "social_insurance_number": ("Mã số BHXH", "Social insurance number"),
        "citizen_id": ("Số định danh cá nhân", "Personal identification number"),
        "full_name": ("Họ và tên", "Full name"),
        "birth_date": ("Ngày sinh", "Date of birth"),
        "contribution_periods": ("Quá trình đóng", "Contribution periods"),
        "months_per_scheme": ("Số tháng đóng theo chế độ", "Months contributed per scheme"),
    },
}


def known_issuer(issuer: str) -> str:
    """``issuer`` when it is one of ours (mps, vss); a 404 otherwise."""
    if issuer not in CONFIGURATIONS_BY_ISSUER:
        raise NotFoundError(f"no issuer {issuer!r} here")
    return issuer


def issuer_of(configuration_id: str) -> str | None:
    """The issuer that offers ``configuration_id``, if any."""
    for issuer, configurations in CONFIGURATIONS_BY_ISSUER.items():
        if configuration_id in configurations:
            return issuer
    return None


def credential_issuer_metadata(issuer_id: str, issuer: str, batch_size: int) -> dict[str, object]:
    """OpenID4VCI 1.0 §12.2.4 metadata of one issuer; it is its own authorization server."""
    configurations = {
        configuration_id: {
            "format": "dc+sd-jwt",
            "scope": configuration_id,
            "vct": VCT_BY_TYPE[configuration_id],
            "cryptographic_binding_methods_supported": ["jwk"],
            "credential_signing_alg_values_supported": ["ES256"],
            "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}},
            "credential_metadata": {
                "display": [
                    {"name": CREDENTIAL_NAMES[configuration_id][lang], "locale": lang}
                    for lang in ("vi", "en")
                ],
                "claims": [
                    {
                        "path": [claim],
                        "display": [{"name": vi, "locale": "vi"}, {"name": en, "locale": "en"}],
                    }
                    for claim, (vi, en) in CLAIM_NAMES[configuration_id].items()
                ],
            },
        }
        for configuration_id in CONFIGURATIONS_BY_ISSUER[issuer]
    }
    return {
        "credential_issuer": issuer_id,
        "credential_endpoint": f"{issuer_id}/credential",
        "nonce_endpoint": f"{issuer_id}/nonce",
        "batch_credential_issuance": {"batch_size": batch_size},
        "display": [{"name": ISSUER_NAMES[issuer][lang], "locale": lang} for lang in ("vi", "en")],
        "credential_configurations_supported": configurations,
    }


def authorization_server_metadata(issuer_id: str) -> dict[str, object]:
    """RFC 8414 metadata for the pre-authorized code grant only."""
    return {
        "issuer": issuer_id,
        "token_endpoint": f"{issuer_id}/token",
        "grant_types_supported": ["urn:ietf:params:oauth:grant-type:pre-authorized_code"],
        "pre-authorized_grant_anonymous_access_supported": True,
        "token_endpoint_auth_methods_supported": ["none"],
        "authorization_details_types_supported": ["openid_credential"],
    }
