// handgrad playground: loaded in the page's head, before any control exists, so no click is
// lost while the other scripts load: a click on a button is kept here and app.js plays it
// once its handlers are wired (Play pressed the moment the page appears then trains).
"use strict";
window.earlyClicks = [];
window.keepEarlyClick = (event) => {
  const button = event.target instanceof Element && event.target.closest("button[id]");
  if (button) window.earlyClicks.push(button.id);
};
document.addEventListener("click", window.keepEarlyClick, true);
