// Command mkfixtures writes the text fixtures the tests train on, from
// hand-written phrase lists combined with a seeded generator:
//
//   - testdata/text/tickets.csv: 200 customer-support tickets in four
//     classes with string labels (account, billing, shipping, technical),
//     for the many-class path end to end;
//   - testdata/text/zh_news.csv: 240 Chinese news sentences in three
//     topics (体育 sports, 财经 finance, 科技 technology), for the CJK
//     tokenizer end to end.
//
// The sentences are synthetic: each is an opening, a topic phrase and a
// detail drawn from its class's lists, so a class is told by its phrases,
// as in real tickets and headlines, while words shared between classes
// (greetings, times, numbers, 公司, 今天) carry no signal. Run from the
// repository root: go run ./tools/mkfixtures
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

type class struct {
	label                     string
	openings, topics, details []string
}

var tickets = []class{
	{"account", []string{"Hi,", "Hello team,", "Good morning,", "Hey there,", "Hi support,", ""},
		[]string{"I can't log in to my account", "my password reset email never arrives", "I want to change the email address on my profile",
			"please delete my account and all my data", "my account was locked after too many attempts", "I need to add a second user to our team account",
			"the two-factor code is not accepted", "how do I change my username", "someone else signed in to my account", "I want to merge my two accounts"},
		[]string{"since this morning.", "even after clearing my cookies.", "and I need access today.", "Thanks for your help.", "can you look into it?", "it says the link has expired.", "I tried three times already.", ""}},
	{"billing", []string{"Hi,", "Hello,", "Dear support,", "Good afternoon,", "Hi team,", ""},
		[]string{"I was charged twice for my subscription", "please send me an invoice for last month", "my credit card payment was declined",
			"I want a refund for the annual plan", "why did my monthly price go up", "how do I switch to yearly billing", "the VAT number is missing on the receipt",
			"I cancelled but was still billed", "can I pay by bank transfer instead", "the discount code was not applied to my order total"},
		[]string{"on my last statement.", "please fix it before the next cycle.", "our accounting needs it by Friday.", "Thanks.", "can you check?", "the amount was 49 dollars.", "I have attached a screenshot.", ""}},
	{"shipping", []string{"Hi,", "Hello,", "Hey,", "Good evening,", "Hi there,", ""},
		[]string{"my package has not arrived yet", "the tracking number does not work", "the parcel was delivered to the wrong address",
			"can I change the delivery address for my order", "the box arrived damaged", "how long does shipping to Canada take", "the courier left without ringing",
			"one item is missing from my delivery", "I need express delivery for this order", "my order still shows as processing"},
		[]string{"it was supposed to come on Monday.", "the order number is 48213.", "please send a replacement.", "Thanks a lot.", "can you check with the carrier?", "I ordered it two weeks ago.", "I will be away next week.", ""}},
	{"technical", []string{"Hi,", "Hello,", "Hi team,", "Good morning,", "Hey support,", ""},
		[]string{"the app crashes when I open the settings page", "I get error 500 when I upload a file", "the export to PDF produces an empty document",
			"sync between my phone and laptop stopped working", "the dashboard is very slow to load", "notifications do not show up on Android",
			"the API returns a timeout for large requests", "I cannot connect the printer to the software", "the search does not find recent documents", "the update failed halfway through the install"},
		[]string{"on version 4.2.", "the log file is attached.", "it started after the last update.", "Thanks for any help.", "can you reproduce it?", "restarting did not help.", "it happens every time.", ""}},
}

var news = []class{
	{"体育", []string{"今天", "昨晚", "本周", "据报道，", "记者获悉，", ""},
		[]string{"国家队在世界杯预选赛中以二比一获胜", "这名球员打破了一百米短跑的全国纪录", "篮球联赛总决赛进入第七场", "主教练宣布下赛季的首发阵容",
			"马拉松比赛吸引了三万名跑者参加", "女排在奥运会半决赛中击败对手", "网球公开赛的冠军由一名年轻选手获得", "足球俱乐部签下了一名新的前锋",
			"游泳运动员在比赛中夺得两枚金牌", "乒乓球队员在决赛中发挥出色"},
		[]string{"球迷们在看台上欢呼。", "比赛现场气氛热烈。", "教练对队员的表现很满意。", "下一场比赛将在周末进行。", "这是他职业生涯的最好成绩。", ""}},
	{"财经", []string{"今天", "上周", "本月", "据报道，", "分析人士指出，", ""},
		[]string{"股市在开盘后大幅上涨", "央行宣布下调存款准备金率", "这家银行的季度利润增长了百分之十", "人民币对美元汇率小幅下跌",
			"房地产市场的成交量继续减少", "投资者对通货膨胀的担忧加剧", "公司发布了新的年度财务报告", "原油价格创下三个月来的新高",
			"消费数据显示零售销售额稳步增长", "债券收益率出现明显回落"},
		[]string{"市场情绪有所改善。", "经济学家预计这一趋势将持续。", "交易量比前一天增加。", "企业对未来前景保持谨慎。", "政策效果还有待观察。", ""}},
	{"科技", []string{"今天", "近日", "本周", "据报道，", "业内人士表示，", ""},
		[]string{"这家公司发布了新一代智能手机", "研究团队开发出一种新的人工智能模型", "芯片制造商宣布量产更先进的处理器", "新版本的操作系统修复了多个安全漏洞",
			"科学家利用量子计算机完成了一项复杂计算", "电动汽车的电池续航里程显著提高", "软件开发者推出了开源的编程工具", "卫星成功发射并进入预定轨道",
			"互联网平台推出了新的云计算服务", "机器人在工厂中承担了更多的装配工作"},
		[]string{"用户可以在网上预订。", "这项技术有望降低成本。", "专家认为这将改变整个行业。", "相关产品将于明年上市。", "测试结果令人鼓舞。", ""}},
}

func main() {
	out := flag.String("out", "testdata/text", "folder to write the fixtures into")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	write(filepath.Join(*out, "tickets.csv"), tickets, 50, joinEnglish, 1)
	write(filepath.Join(*out, "zh_news.csv"), news, 80, joinChinese, 2)
}

// joinEnglish writes "opening topic, detail" (detail lower-case) or
// "opening topic. Detail".
func joinEnglish(opening, topic, detail string) string {
	s := strings.TrimSpace(opening + " " + topic)
	switch {
	case detail == "":
		return s + "."
	case strings.ToLower(detail[:1]) == detail[:1]:
		return s + ", " + detail
	}
	return s + ". " + detail
}

// joinChinese writes "opening topic，detail" or "opening topic。".
func joinChinese(opening, topic, detail string) string {
	if detail == "" {
		return opening + topic + "。"
	}
	return opening + topic + "，" + detail
}

// write draws perClass distinct texts per class, joining the parts with
// join, shuffles them with seed and writes a CSV with text and label
// columns.
func write(path string, classes []class, perClass int, join func(opening, topic, detail string) string, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	var rows [][]string
	for _, c := range classes {
		if len(c.openings)*len(c.topics)*len(c.details) < 2*perClass {
			log.Fatalf("class %s has too few combinations for %d texts", c.label, perClass)
		}
		seen := map[string]bool{}
		for len(seen) < perClass {
			text := join(c.openings[rng.IntN(len(c.openings))], c.topics[rng.IntN(len(c.topics))], c.details[rng.IntN(len(c.details))])
			if seen[text] {
				continue
			}
			seen[text] = true
			rows = append(rows, []string{text, c.label})
		}
	}
	rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	w := csv.NewWriter(f)
	if err := w.Write([]string{"text", "label"}); err != nil {
		log.Fatal(err)
	}
	if err := w.WriteAll(rows); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d texts in %d classes\n", path, len(rows), len(classes))
}
