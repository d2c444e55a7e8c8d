// webauthn.js runs the passkey ceremonies (WebAuthn) of three pages: the
// login page and the second factor's page (a form with data-webauthn-get, the
// options for navigator.credentials.get) and the account page (a form with
// data-webauthn-create, the options for navigator.credentials.create). It
// shows the form's button, and on a click asks the browser for the
// credential, puts its JSON in the form's hidden field (passkey or
// credential) and submits the form. The server checks everything; without
// this script the pages work as before (codes only).
(function () {
  "use strict";

  function toBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) {
      s += "=";
    }
    var bin = atob(s);
    var b = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      b[i] = bin.charCodeAt(i);
    }
    return b.buffer;
  }

  function toB64u(buf) {
    if (!buf) {
      return undefined;
    }
    var b = new Uint8Array(buf);
    var s = "";
    for (var i = 0; i < b.length; i++) {
      s += String.fromCharCode(b[i]);
    }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      return Object.assign({}, d, { id: toBuf(d.id) });
    });
  }

  function credentialJSON(c) {
    var r = c.response;
    var out = {
      id: c.id,
      rawId: toB64u(c.rawId),
      type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64u(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toB64u(r.attestationObject);
      if (r.getTransports) {
        out.response.transports = r.getTransports();
      }
    } else {
      out.response.authenticatorData = toB64u(r.authenticatorData);
      out.response.signature = toB64u(r.signature);
      out.response.userHandle = toB64u(r.userHandle);
    }
    return JSON.stringify(out);
  }

  function fail(form, err) {
    var p = form.querySelector(".passkey-error");
    if (p) {
      p.textContent = err && err.name === "NotAllowedError"
        ? "The passkey was not used. Try again, or use a code."
        : "Your browser could not use a passkey here.";
      p.hidden = false;
    }
  }

  function wire(form, create) {
    var button = form.querySelector("button.passkey-button");
    if (!button || !window.PublicKeyCredential || !navigator.credentials) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var o = JSON.parse(form.getAttribute(create ? "data-webauthn-create" : "data-webauthn-get"));
      o.challenge = toBuf(o.challenge);
      var ask;
      if (create) {
        o.user = Object.assign({}, o.user, { id: toBuf(o.user.id) });
        o.excludeCredentials = descriptors(o.excludeCredentials);
        ask = navigator.credentials.create({ publicKey: o });
      } else {
        o.allowCredentials = descriptors(o.allowCredentials);
        ask = navigator.credentials.get({ publicKey: o });
      }
      button.disabled = true;
      ask.then(function (c) {
        form.querySelector("input.passkey-answer").value = credentialJSON(c);
        form.submit();
      }, function (err) {
        button.disabled = false;
        fail(form, err);
      });
    });
  }

  document.querySelectorAll("form[data-webauthn-get]").forEach(function (f) { wire(f, false); });
  document.querySelectorAll("form[data-webauthn-create]").forEach(function (f) { wire(f, true); });
})();
