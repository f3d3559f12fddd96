// The seeds' sample status-callback app: Express + body-parser, logging SID and status.
const express = require("express");
const bodyParser = require("body-parser");
const app = express();
app.use(bodyParser.urlencoded({ extended: false }));
app.post("/message-status", (req, res) => {
  console.log(`SID: ${req.body.MessageSid}, Status: ${req.body.MessageStatus}`);
  res.sendStatus(200);
});
app.listen(Number(process.argv[2]), "127.0.0.1");
