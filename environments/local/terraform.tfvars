# moto's default account is 123456789012.
model_project_arn = "arn:aws:rekognition:eu-west-1:123456789012:project/camblur-local/1700000000000"
model_version_arn = "arn:aws:rekognition:eu-west-1:123456789012:project/camblur-local/version/camblur-local.v1/1700000000001"

capture_time_zone = "Europe/Paris"

# The integration test checks that this filter reaches the notification. No suffix: S3
# suffixes are case-sensitive and one per rule, and .png, .jpeg and .JPG uploads must be
# blurred too (make demo uploads a PNG).
raw_notification_filter = {
  prefix = "cameras/"
}
