# Replace the account and model ARNs with yours (the model is trained outside Terraform).
region              = "eu-west-1"
allowed_account_ids = ["222222222222"]

model_project_arn = "arn:aws:rekognition:eu-west-1:222222222222:project/camblur-people-plates/1700000000000"
model_version_arn = "arn:aws:rekognition:eu-west-1:222222222222:project/camblur-people-plates/version/camblur-people-plates.v1/1700000000001"

capture_time_zone         = "Europe/Paris"
live_reserved_concurrency = 24 # 50 TPS x 0.38 s x 1.25 (README: Scale)
# Every alarm notifies the stack's topic (camblur-prod-alarms); put the on-call addresses here,
# or pass a topic of your own as alarm_topic_arn.
# alarm_emails = ["site-ops@example.com"]
# alarm_topic_arn = "arn:aws:sns:eu-west-1:222222222222:camblur-alarms"
