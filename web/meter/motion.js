// The JavaScript-driven animation: a ball moved every frame by requestAnimationFrame. It moves only
// when the main thread is free, unlike its CSS twin, which the compositor animates on its own thread.

const PERIOD_MS = 2000;

/** @param {HTMLElement} ball */
export function animate(ball) {
  const track = /** @type {HTMLElement} */ (ball.parentElement);
  /** @param {number} time */
  const step = (time) => {
    const phase = (time % PERIOD_MS) / PERIOD_MS;
    const there = phase < 0.5 ? phase * 2 : 2 - phase * 2; // back and forth
    const room = track.clientWidth - ball.offsetWidth;
    ball.style.transform = `translateX(${(there * room).toFixed(1)}px)`;
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
}
