// Progressive enhancement only. Before a signed-in session ends for want of use, warn and offer
// to stay signed in (WCAG 2.2.1 Timing adjustable). Without JavaScript there is no warning; a form
// sent after the timeout is kept and shown again after signing in (signpost/web/kept.py).
//
// The server ends a session SESSION_IDLE_MINUTES after its last request (and allows up to 30 s
// more). This page's load, or "Stay signed in", is such a request; so is any page of Signpost
// opened in another tab of this browser, which shares the session: each records when in
// localStorage, and the warning waits for the latest. Whatever the use, a session also ends
// SESSION_MAX_HOURS after signing in: that is warned of too, with nothing to stay signed in for, and
// once its warning is read (Continue) the top of the page says when. Signed out, the dialog's message
// moves to the top of the page when they go back to it, so the page never looks signed in.
const dialog = document.querySelector("dialog[data-timeout]");
if (dialog && typeof dialog.showModal === "function") {
  const KEY = "signpost-last-request";
  const SIGNED_OUT = "signpost-signed-out"; // when this browser last signed out, in any tab
  const idle = Number(dialog.dataset.idleSeconds) * 1000;
  const warnFor = Math.min(2 * 60 * 1000, idle / 2);
  const loaded = Date.now();
  const left = Number(dialog.dataset.sessionLeftSeconds);
  const ends = loaded + (Number.isFinite(left) ? left * 1000 : Infinity);
  const warning = dialog.querySelector("[data-timeout-warning]");
  const ended = dialog.querySelector("[data-timeout-ended]");
  const timeLeft = dialog.querySelector("[data-timeout-left]");
  const stayButton = dialog.querySelector("[data-timeout-stay]");
  const continueButton = dialog.querySelector("[data-timeout-continue]");
  const announce = dialog.querySelector("[data-timeout-announce]");
  const problem = dialog.querySelector("[data-timeout-error]");
  const why = dialog.querySelector("#signpost-timeout-why");
  const elsewhere = dialog.querySelector("[data-timeout-elsewhere]");
  const other = dialog.querySelector("[data-timeout-other]");
  // On the page itself, once the dialog is closed (base.html): what it said, kept where it stays. Put in
  // the page from its template the first time it is needed.
  const noticeTemplate = document.querySelector("template[data-timeout-notice-template]");
  const notice = noticeTemplate.content.firstElementChild.cloneNode(true);
  const ending = notice.querySelector("[data-timeout-ending]");
  const status = document.querySelector("[data-timeout-status]");
  const showNotice = () => {
    if (!notice.isConnected) {
      noticeTemplate.replaceWith(notice);
    }
    notice.hidden = false;
  };
  const token = dialog.querySelector("input[name=csrf_token]").value;
  let timer = null;
  let ticking = null;
  let announced = null;
  let dismissed = false; // the warning of the session's end, read: not shown again

  const stored = () => {
    try {
      return Number(window.localStorage.getItem(KEY)) || 0;
    } catch (error) {
      return 0;
    }
  };
  const record = (when) => {
    try {
      window.localStorage.setItem(KEY, String(Math.max(when, stored())));
    } catch (error) {
      // Storage refused (a private window's setting): this tab's own clock is used.
    }
  };
  const idleEnd = () => Math.max(loaded, stored()) + idle;
  const deadline = () => Math.min(idleEnd(), ends);
  const final = () => ends <= idleEnd(); // the session's end comes first: staying signed in cannot help

  // Which end the warning speaks of: the one that comes first, which another tab's page can change while
  // it is open (the idle end put past the session's). Focus on a button that goes moves to the one shown.
  const sayWhy = () => {
    const isFinal = final();
    const changed = stayButton.hidden !== isFinal;
    const focused = document.activeElement === stayButton || document.activeElement === continueButton;
    dialog.querySelectorAll("[data-timeout-idle]").forEach((element) => { element.hidden = isFinal; });
    dialog.querySelectorAll("[data-timeout-final]").forEach((element) => { element.hidden = !isFinal; });
    stayButton.hidden = isFinal;
    continueButton.hidden = !isFinal;
    if (changed && focused) {
      (isFinal ? continueButton : stayButton).focus();
    }
    return changed;
  };

  const words = (ms) => {
    const seconds = Math.max(0, Math.ceil(ms / 1000));
    if (seconds > 60) {
      return `${Math.ceil(seconds / 60)} minutes`;
    }
    if (seconds === 60) {
      return "1 minute";
    }
    return seconds === 1 ? "1 second" : `${seconds} seconds`;
  };

  const clockTime = (when) => { // 2:05pm, as GOV.UK writes a time
    const at = new Date(when);
    const minutes = String(at.getMinutes()).padStart(2, "0");
    return `${at.getHours() % 12 || 12}:${minutes}${at.getHours() < 12 ? "am" : "pm"}`;
  };

  // cause: "time" (a limit reached), "elsewhere" (another tab of this browser signed out, so this page's
  // session has gone too) or "other" (the server ended it before either limit: another device's sign-out,
  // say). Only the first is told as the idle limit or the session's.
  const showEnded = (cause = "time") => {
    window.clearTimeout(timer);
    window.clearInterval(ticking);
    sayWhy();
    why.hidden = cause !== "time";
    elsewhere.hidden = cause !== "elsewhere";
    other.hidden = cause !== "other";
    notice.hidden = true; // when the session would end: it has
    warning.hidden = true;
    ended.hidden = false;
    // The page's own address, unless it was the answer to a form sent (POST): then a GET of it would
    // be "Page not found", and the server names the page that shows the form again.
    dialog.querySelector("[data-timeout-again]").href = dialog.dataset.againUrl;
    dialog.setAttribute("aria-labelledby", "signpost-timeout-ended");
    dialog.setAttribute("aria-describedby", { time: why, elsewhere, other }[cause].id);
    if (!dialog.open) {
      dialog.showModal();
    }
    ended.querySelector("h2").focus();
  };

  const tick = () => {
    const remaining = deadline() - Date.now();
    if (remaining <= 0) {
      showEnded();
      return;
    }
    if (remaining > warnFor + 1000) { // another tab kept the session going
      close();
      return;
    }
    timeLeft.textContent = words(remaining);
    if (sayWhy() && announced !== null) { // now the session's end: say so, not only the time
      announce.textContent = dialog.querySelector("#signpost-timeout-text").innerText.replace(/\s+/g, " ").trim();
      announced = null;
    }
    // Screen readers hear the time left when the warning opens (it names the dialog), then once a
    // minute and at 20 seconds: not every second.
    const step = remaining > 60000 ? Math.ceil(remaining / 60000) * 60 : (remaining > 20000 ? 60 : 20);
    if (announced !== null && step !== announced) {
      announce.textContent = `We will sign you out in ${words(remaining)}.`;
    }
    announced = step;
  };

  const schedule = () => {
    window.clearTimeout(timer);
    const at = dismissed ? deadline() : deadline() - warnFor;
    timer = window.setTimeout(check, Math.max(0, at - Date.now()));
  };

  const open = () => {
    announced = null;
    tick();
    if (!ended.hidden) {
      return;
    }
    sayWhy();
    if (!dialog.open) { // opened again (the tab shown again, say), focus stays where it is
      problem.hidden = true; // a failed Stay signed in, from a warning another tab has since put off
      dialog.showModal();
      (final() ? continueButton : stayButton).focus();
    }
    window.clearInterval(ticking);
    ticking = window.setInterval(tick, 1000);
  };

  const close = () => {
    window.clearInterval(ticking);
    if (dialog.open) {
      dialog.close();
    }
    schedule();
  };

  function check() {
    const remaining = deadline() - Date.now();
    if (remaining <= 0) {
      showEnded();
    } else if (remaining <= warnFor + 1000 && !dismissed) {
      open();
    } else {
      schedule();
    }
  }

  const stay = async () => {
    problem.hidden = true;
    let response;
    try {
      response = await window.fetch(dialog.dataset.stayUrl, {
        method: "POST", credentials: "same-origin", redirect: "manual", headers: { "X-CSRFToken": token },
      });
    } catch (error) {
      response = null; // no connection
    }
    if (response && response.status === 204) {
      record(Date.now());
      close();
    } else if (response && response.type === "opaqueredirect") { // sent to sign in: the session had ended
      // Before either limit (this page's idea of them can be a page load's moment late), it was not time.
      const early = deadline() - Date.now() > 15000;
      showEnded(signedOutSince() ? "elsewhere" : (early ? "other" : "time"));
    } else { // no connection, or the service could not answer (a 503): the warning stays, to try again
      problem.hidden = false;
    }
  };

  // Continue: the warning is not shown again before the end, so the page keeps saying when it comes.
  const dismiss = () => {
    dismissed = true;
    notice.querySelector("[data-timeout-at]").textContent = clockTime(ends);
    ending.hidden = false;
    showNotice();
    close();
  };
  // Signed out, the form they were writing is still on the page: back to it, to send it (and sign in).
  // The dialog's message moves to the top of the page, so the page never looks signed in.
  const backToPage = () => {
    ending.hidden = true;
    ended.querySelectorAll("[data-timeout-back], [data-timeout-in-dialog]").forEach((element) => { element.hidden = true; });
    notice.querySelector(".govuk-notification-banner__content").append(ended);
    showNotice();
    if (dialog.open) {
      dialog.close(); // focus goes back where it was, in the form
    }
    status.textContent = "You have been signed out. The message at the top of the page says how to sign in again.";
  };
  stayButton.addEventListener("click", stay);
  continueButton.addEventListener("click", dismiss);
  dialog.querySelector("[data-timeout-back]").addEventListener("click", backToPage);
  // However the message was closed (a browser may close it on a second Escape, whatever "cancel" says).
  // Not the late event of the warning's own closing, which can come after the message has opened.
  dialog.addEventListener("close", () => {
    if (!dialog.open && !ended.hidden && !notice.contains(ended)) {
      backToPage();
    }
  });
  // Escape while warned means "stay signed in", as closing the warning does in GOV.UK services (or
  // Continue, when staying cannot help); once signed out, "Go back to the page".
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    if (!ended.hidden) {
      backToPage();
    } else if (final()) {
      dismiss();
    } else {
      stay();
    }
  });
  // Timers in a hidden tab may run late: check again when it is shown.
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && ended.hidden) {
      check();
    }
  });
  const signedOutSince = () => {
    try {
      return Number(window.localStorage.getItem(SIGNED_OUT)) > loaded;
    } catch (error) {
      return false;
    }
  };
  document.querySelectorAll("form").forEach((form) => {
    if (form.getAttribute("action") === dialog.dataset.signOutUrl) {
      form.addEventListener("submit", () => {
        try {
          window.localStorage.setItem(SIGNED_OUT, String(Date.now()));
        } catch (error) {
          // Storage refused: other tabs find out when they next ask the server.
        }
      });
    }
  });
  window.addEventListener("storage", (event) => {
    if (event.key === SIGNED_OUT && ended.hidden && signedOutSince()) {
      showEnded("elsewhere");
      return;
    }
    if (event.key === KEY && ended.hidden) {
      check();
    }
  });
  record(loaded);
  schedule();
}
