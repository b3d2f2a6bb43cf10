module.exports = () => require('./real-machine').setup();
