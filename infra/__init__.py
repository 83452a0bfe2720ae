"""WECARE.DIGITAL AWS CDK app: tables, functions, HTTP API, user pool, send queues, the WhatsApp, SMS/voice and
email events topics (with the SMS/voice and SES configuration sets), the media bucket and the schedule, one
construct per concern."""
import os

# jsii prints an end-of-life banner on every start under Node 20 (the build machines' Node): noise, not a failure.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
