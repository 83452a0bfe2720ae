"""The media bucket: private, encrypted, TLS only, kept on delete.

End User Messaging Social moves WhatsApp media through it with its own service principal, limited to this
account: GetWhatsAppMessageMedia writes what a customer sent under the staging prefix (the adapter then
moves it to its key), PostWhatsAppMessageMedia reads the file an operator sends.
"""
from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from backend.adapters.channels.whatsapp import INCOMING_MEDIA_PREFIX

SOCIAL_MESSAGING_PRINCIPAL = "social-messaging.amazonaws.com"
STAGING_EXPIRY = Duration.days(1)  # a fetched file is moved within seconds; what is left behind is litter


class MediaBucket(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # No bucket name: S3 names are global, so CloudFormation picks a unique one (WECARE_MEDIA_BUCKET carries it).
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            encryption=s3.BucketEncryption.S3_MANAGED,  # a KMS key would also need a key policy for the service
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                s3.LifecycleRule(id="abort-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
                s3.LifecycleRule(id="expire-staging", prefix=INCOMING_MEDIA_PREFIX, expiration=STAGING_EXPIRY),
            ],
        )
        self._allow_social_messaging(["s3:PutObject"], self.bucket.arn_for_objects(f"{INCOMING_MEDIA_PREFIX}*"))
        self._allow_social_messaging(["s3:GetObject"], self.bucket.arn_for_objects("*"))

    def _allow_social_messaging(self, actions: list[str], resource: str) -> None:
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(SOCIAL_MESSAGING_PRINCIPAL)],
                actions=actions,
                resources=[resource],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
