"""A deleted person's payable ledger accounts lose their display name (their name, from which the
account was named), and nothing else: the account, its code and its entries stay evidence.

The database still refuses every change of an account, but one: the ``name`` of a payable account,
inside a transaction that said it is anonymizing someone
(``set_config('datacollective.anonymizing', 'on', true)``, see
licensing.contributors.portability.delete_account)."""

from django.db import migrations

ONLY_NAMES = """
CREATE FUNCTION licensing_ledgeraccount_anonymize_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND COALESCE(current_setting('datacollective.anonymizing', true), '') = 'on'
       AND OLD.kind = 'payable'
       AND NEW.id = OLD.id AND NEW.code = OLD.code AND NEW.kind = OLD.kind
       AND NEW.user_id IS NOT DISTINCT FROM OLD.user_id
       AND NEW.payee_email = OLD.payee_email
       AND NEW.organization_id IS NOT DISTINCT FROM OLD.organization_id
       AND NEW.created_at = OLD.created_at THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% rows are evidence: append a new row instead', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER licensing_ledgeraccount_immutable ON licensing_ledgeraccount;
CREATE TRIGGER licensing_ledgeraccount_immutable BEFORE UPDATE OR DELETE ON licensing_ledgeraccount
    FOR EACH ROW EXECUTE FUNCTION licensing_ledgeraccount_anonymize_only();
"""

IMMUTABLE_AGAIN = """
DROP TRIGGER licensing_ledgeraccount_immutable ON licensing_ledgeraccount;
CREATE TRIGGER licensing_ledgeraccount_immutable BEFORE UPDATE OR DELETE ON licensing_ledgeraccount
    FOR EACH ROW EXECUTE FUNCTION licensing_refuse_change();
DROP FUNCTION licensing_ledgeraccount_anonymize_only();
"""


class Migration(migrations.Migration):
    dependencies = [("licensing", "0010_consent_derivatives")]

    operations = [migrations.RunSQL(ONLY_NAMES, IMMUTABLE_AGAIN)]
