"""A published DatasetVersion can be neither updated nor deleted: corrections are new versions."""

from django.db import migrations

CREATE = """
CREATE FUNCTION marketplace_version_immutable() RETURNS trigger AS $$
BEGIN
    IF OLD.published_at IS NOT NULL THEN
        RAISE EXCEPTION 'dataset version % is published and immutable', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER marketplace_version_immutable
    BEFORE UPDATE OR DELETE ON marketplace_datasetversion
    FOR EACH ROW EXECUTE FUNCTION marketplace_version_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS marketplace_version_immutable ON marketplace_datasetversion;
DROP FUNCTION IF EXISTS marketplace_version_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_initial")]
    operations = [migrations.RunSQL(CREATE, DROP)]
