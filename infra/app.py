"""CDK entry point. `cdk synth` / `cdk deploy` from `infra/`, with context such as
`-c stage=prod -c callback_url=https://<app>/auth/callback -c install_deps=true
-c whatsapp_phone_number_id=phone-number-id-<...> -c whatsapp_waba_id=<...>
-c sms_origination_identity=<number, phone-number/pool id or ARN, or sender id>
-c voice_origination_identity=<number, phone-number/pool id or ARN> -c email_from="<Name> <address>"`
and optionally sms_message_type, voice_default_voice_id, email_reply_to, email_unsubscribe_url, the ai_* ids,
mfa (optional|required), api_rate_limit and api_burst_limit, and for the web tier web_image,
web_certificate_arn, web_tasks and web_max_tasks (docs/deploy.md)
(see stage_config.py)."""
import os
import sys
from pathlib import Path

INFRA_DIR = Path(__file__).resolve().parent
REPO_ROOT = INFRA_DIR.parent
# Run as a script, Python puts infra/ itself first on the path, where its modules could shadow installed
# packages; import everything from the repo root instead (`infra.*`, `backend.*`).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != INFRA_DIR]
sys.path.insert(0, str(REPO_ROOT))

from infra.stage_config import StageConfig  # noqa: E402  (infra first: its __init__ quiets jsii's Node banner)
from infra.wecare_stack import WecareStack  # noqa: E402

import aws_cdk as cdk  # noqa: E402


def main() -> None:
    # The cdk CLI sets CDK_OUTDIR; run directly, the assembly goes to infra/cdk.out instead of a temp dir.
    app = cdk.App(outdir=os.environ.get("CDK_OUTDIR") or str(INFRA_DIR / "cdk.out"))
    config = StageConfig.from_context(app.node)
    WecareStack(app, f"wecare-{config.stage}", config=config)
    app.synth()


if __name__ == "__main__":
    main()
