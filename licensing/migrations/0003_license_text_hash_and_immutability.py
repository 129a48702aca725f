"""The database checks that text_sha256 is the SHA-256 of the exact text, and refuses edits
of a license's terms: a grant names a terms hash, which must keep meaning the same text."""

from django.db import migrations

CREATE = """
ALTER TABLE licensing_license ADD CONSTRAINT license_text_sha256_matches
    CHECK (text_sha256 = encode(sha256(convert_to(text, 'UTF8')), 'hex'));

CREATE FUNCTION licensing_license_terms_immutable() RETURNS trigger AS $$
BEGIN
    IF NEW.text IS DISTINCT FROM OLD.text OR NEW.text_sha256 IS DISTINCT FROM OLD.text_sha256 THEN
        RAISE EXCEPTION 'license % terms are immutable: create a new license', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER licensing_license_terms_immutable
    BEFORE UPDATE ON licensing_license
    FOR EACH ROW EXECUTE FUNCTION licensing_license_terms_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS licensing_license_terms_immutable ON licensing_license;
DROP FUNCTION IF EXISTS licensing_license_terms_immutable();
ALTER TABLE licensing_license DROP CONSTRAINT IF EXISTS license_text_sha256_matches;
"""


class Migration(migrations.Migration):
    dependencies = [("licensing", "0002_initial")]
    operations = [migrations.RunSQL(CREATE, DROP)]
