"""The SageMaker framework images a profile stands in for, by region, and back.

The account that serves the scikit-learn and XGBoost framework images differs per
region; these are the registries the SageMaker Python SDK lists for the sklearn 1.2-1 and
xgboost 1.7-1 images (both families share them).
"""

from __future__ import annotations

import re

from sandbox.errors import UsageError

__all__ = ["FRAMEWORK_IMAGES", "framework_image_uri", "framework_profile"]

_REGISTRIES = {
    "af-south-1": "510948584623",
    "ap-east-1": "651117190479",
    "ap-northeast-1": "354813040037",
    "ap-northeast-2": "366743142698",
    "ap-northeast-3": "867004704886",
    "ap-south-1": "720646828776",
    "ap-south-2": "628508329040",
    "ap-southeast-1": "121021644041",
    "ap-southeast-2": "783357654285",
    "ap-southeast-3": "951798379941",
    "ap-southeast-4": "106583098589",
    "ca-central-1": "341280168497",
    "cn-north-1": "450853457545",
    "cn-northwest-1": "451049120500",
    "eu-central-1": "492215442770",
    "eu-central-2": "680994064768",
    "eu-north-1": "662702820516",
    "eu-south-1": "978288397137",
    "eu-south-2": "104374241257",
    "eu-west-1": "141502667606",
    "eu-west-2": "764974769150",
    "eu-west-3": "659782779980",
    "me-central-1": "272398656194",
    "me-south-1": "801668240914",
    "sa-east-1": "737474898029",
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-gov-east-1": "237065988967",
    "us-gov-west-1": "414596584902",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
}

FRAMEWORK_IMAGES = {
    "sklearn-1.2": "sagemaker-scikit-learn:1.2-1-cpu-py3",
    "xgboost-1.7": "sagemaker-xgboost:1.7-1",
}
"""Image profile -> the framework image (repository:tag) it is a look-alike of."""


def framework_image_uri(profile: str, region: str) -> str:
    """The ECR URI of the framework image that ``profile`` stands in for, in ``region``.

    Raises:
        UsageError: The profile stands in for no known framework image, or the region
            has no registry for it; ``--image-uri`` must then name the image.
    """
    image = FRAMEWORK_IMAGES.get(profile)
    if image is None:
        raise UsageError(
            f"--image-uri is needed: the image {profile!r} stands in for no known SageMaker "
            f"framework image (known: {', '.join(sorted(FRAMEWORK_IMAGES))})"
        )
    account = _REGISTRIES.get(region)
    if account is None:
        raise UsageError(
            f"--image-uri is needed: no framework image registry is known for region {region!r}"
        )
    domain = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{domain}/{image}"


def framework_profile(image_uri: str) -> str | None:
    """The profile that stands in for a SageMaker framework image URI (any registry,
    any variant of the version's tag), or ``None``."""
    for profile, image in FRAMEWORK_IMAGES.items():
        repository, tag = image.split(":")
        version = "-".join(tag.split("-")[:2])  # "1.2-1" of "1.2-1-cpu-py3"
        if re.search(rf"/{re.escape(repository)}:{re.escape(version)}(-|$)", image_uri):
            return profile
    return None
