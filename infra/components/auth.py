"""Sign-in: a Cognito user pool (email sign-in, one group per role) and a public OIDC client for the web app.

The client uses the authorization-code flow with PKCE and has no secret, because it runs in the browser.
The hosted-UI domain prefix must be unique in the region; unless one is given it is derived from the
stack's own id, so nothing names an account or a domain.

Sign-in is hardened: passwords of at least `PASSWORD_MIN_LENGTH` characters with every character class; MFA by
an authenticator app (TOTP; never SMS, which can be intercepted and costs per text), optional per user unless
the stage requires it (`-c mfa=required`: a user without one sets it up at their next sign-in); and threat
protection (formerly "advanced security") ENFORCED: Cognito blocks or challenges sign-ins it rates risky and
compromised credentials. Threat protection needs the PLUS feature plan, which Cognito bills per active user.
"""
from __future__ import annotations

from aws_cdk import Aws, Duration, Fn, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from backend.services.platform.access import Role

PASSWORD_MIN_LENGTH = 12
TEMPORARY_PASSWORD_DAYS = 3  # an invitation's password: long enough for a weekend, short enough to go stale

# Lower precedence wins when a user is in several groups (the token's `cognito:preferred_role`).
_GROUP_PRECEDENCE = {Role.ADMIN: 0, Role.OPERATOR: 1, Role.VIEWER: 2}


class UserDirectory(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        callback_url: str,
        sign_out_url: str,
        domain_prefix: str | None = None,
        mfa_required: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"{name_prefix}users",
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            self_sign_up_enabled=False,  # admins invite users; roles are granted, never self-chosen
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=PASSWORD_MIN_LENGTH,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(TEMPORARY_PASSWORD_DAYS),
            ),
            mfa=cognito.Mfa.REQUIRED if mfa_required else cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False, email=False),
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for role, precedence in _GROUP_PRECEDENCE.items():
            self.user_pool.add_group(
                f"{role.value}Group", group_name=role.value, precedence=precedence, description=f"{role.value} role"
            )
        self.web_client = self.user_pool.add_client(
            "WebClient",
            user_pool_client_name=f"{name_prefix}web",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[callback_url],
                logout_urls=[sign_out_url],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
        )
        self.domain = self.user_pool.add_domain(
            "HostedUi",
            cognito_domain=cognito.CognitoDomainOptions(
                domain_prefix=domain_prefix or Fn.join("", [name_prefix, _stack_uuid_head()])
            ),
        )

    @property
    def issuer_url(self) -> str:
        """The OIDC issuer (`https://cognito-idp.<region>.amazonaws.com/<pool id>`) tokens carry in `iss`."""
        return self.user_pool.user_pool_provider_url


def _stack_uuid_head() -> str:
    """The first 8 hex digits of this stack's UUID (from `AWS::StackId`): unique enough, and stable."""
    stack_uuid = Fn.select(2, Fn.split("/", Aws.STACK_ID))
    return Fn.select(0, Fn.split("-", stack_uuid))
