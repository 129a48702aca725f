"""How a refused download is answered over HTTP: the one map from a refusal to a status, used
where HTTP is spoken (the API's downloads, marketplace.api.mdc.issue_download, which licensing's
API reuses, and the download page)."""

from licensing.access.downloads import Refusal

REFUSAL_STATUS: dict[Refusal, int] = {
    Refusal.SIGN_IN: 401,
    Refusal.NOT_VISIBLE: 404,
    Refusal.NO_SAMPLE: 404,
    Refusal.TAKEN_DOWN: 410,
    Refusal.WITHDRAWN: 410,
    Refusal.ACCESS_NOT_APPROVED: 403,
    Refusal.TERMS_NOT_ACCEPTED: 403,
    Refusal.PAYMENT_DUE: 402,
    Refusal.REFUNDED: 402,  # paid for once, refunded: paying again opens it
}
