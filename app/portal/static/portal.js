// The board's Grade all progress: poll the grading state while a run is going, reload when it ends.
(function () {
  const progress = document.getElementById("progress");
  if (!progress || progress.dataset.state !== "running") return;
  const url = "/api/v1/cohorts/" + encodeURIComponent(progress.dataset.cohort) + "/grading";
  function poll() {
    fetch(url, { credentials: "same-origin" })
      .then((response) => response.json())
      .then((job) => {
        if (job.state === "running") {
          progress.textContent = "grading " + job.done + "/" + job.total + "…";
          setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(() => setTimeout(poll, 2000));
  }
  setTimeout(poll, 500);
})();
