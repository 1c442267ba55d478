// The board's Grade all progress: server-sent events while a run is going; the page reloads when it ends.
(function () {
  const progress = document.getElementById("progress");
  if (!progress || progress.dataset.state !== "running") return;
  const bar = document.getElementById("progress-bar");
  const events = new EventSource("/api/v1/cohorts/" + encodeURIComponent(progress.dataset.cohort) + "/grading/events");
  events.onmessage = (message) => {
    const job = JSON.parse(message.data);
    if (job.state === "running") {
      progress.textContent = "grading " + job.done + "/" + job.total + "…";
      if (bar) { bar.max = job.total; bar.value = job.done; }
      return;
    }
    events.close();
    window.location.reload();
  };
  events.onerror = () => {
    if (events.readyState === EventSource.CLOSED) progress.textContent = "lost track of the grading run: reload the page";
  };
})();
